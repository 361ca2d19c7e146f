const controlCharacters = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const lineBreakingCharacters = /[\u0000-\u001f\u007f-\u009f]/g;

const shown = (character: string) => `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`;

/**
 * Text for a terminal: control characters other than newline and tab are shown as \xNN. Messages quote
 * what files and devices hold (a PSKC file's key ids and algorithm names, a CSV row, a token's serial
 * register), and an escape sequence in one could retitle, clear or rewrite the help desk's terminal.
 */
export function terminalText(text: string): string {
  return text.replace(controlCharacters, shown);
}

/** As terminalText, for text that must stay on one line (a progress line): newlines and tabs too. */
export function terminalLine(text: string): string {
  return text.replace(lineBreakingCharacters, shown);
}
