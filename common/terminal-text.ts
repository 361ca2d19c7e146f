/**
 * Text for a terminal: control characters other than newline and tab are shown as \xNN. Messages quote
 * what files hold (a PSKC file's key ids and algorithm names, a CSV row), and an escape sequence in one
 * could retitle, clear or rewrite the help desk's terminal.
 */
export function terminalText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
