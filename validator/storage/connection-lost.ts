/** SQLSTATE class 08 (connection exception), 57P01–57P03 (server shutting down), or a dropped socket. */
export function connectionLost(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return /^(08|57P0[1-3])/.test(code ?? "") || /Connection terminated|ECONNRESET|EPIPE/.test(message ?? "");
}
