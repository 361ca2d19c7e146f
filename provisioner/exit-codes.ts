// Exit codes of the provisioner commands: the CLI's shared ones (0 ok, 1 refused / operation
// failed, 2 usage or configuration, 3 validator unreachable) plus one of its own, so scripts can
// tell "plug a token in" apart from everything else.
import { exitCodes } from "../common/failure.js";

export const provisionerExitCodes = {
  ...exitCodes,
  /** no token found, or the token stopped answering */
  noToken: 4,
} as const;
