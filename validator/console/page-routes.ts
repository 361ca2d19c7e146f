import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { serialNumber, userId } from "../../common/identifiers.js";
import { dashboard, searchDirectory } from "../operations/directory.js";
import { getToken } from "../operations/tokens.js";
import { readAuditLog } from "../operations/audit.js";
import { getUser } from "../operations/users.js";
import type { AuditFilter, AuditRecord } from "../storage/audit-log.js";
import { accountActions, sameUser } from "./actions.js";
import { ConsoleRefusal, type ConsoleKit } from "./console-server.js";
import { localDayBounds, timeFormatter } from "./time-format.js";

const userParams = z.object({ user: userId });
const lostParams = userParams.extend({ serial: serialNumber });
const AUDIT_PAGE = 50;
const AUDIT_CSV_MAX = 10_000;

const auditQuery = z.object({
  user: z.string().max(128).optional(),
  serial: z.string().max(64).optional(),
  actor: z.string().max(160).optional(),
  event: z.string().max(64).optional(),
  result: z.string().max(64).optional(),
  from: z.string().max(10).optional(),
  to: z.string().max(10).optional(),
  before: z.coerce.number().int().positive().optional(),
});

function parsed<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConsoleRefusal(404, (text) => text.errors.pageNotFound);
  return result.data;
}

/** One CSV field (RFC 4180), with spreadsheet formulas defused. */
function csvField(value: unknown): string {
  let text = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Read-only pages: dashboard, search, a user's page, the lost-token flow, the audit log. */
export function pageRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const { ctx } = kit;

  app.get("/", async (request, reply) => kit.render(request, reply, "dashboard", { board: await dashboard(ctx) }));

  app.get("/search", async (request, reply) => {
    const q = z.string().max(128).catch("").parse((request.query as { q?: unknown }).q).trim();
    const matches = q === "" ? null : await searchDirectory(ctx, q);
    // htmx asks for the results only, to update them as the staff member types.
    return kit.render(request, reply, request.headers["hx-request"] ? "search-results" : "search", { q, matches });
  });

  app.get("/users/:user", async (request, reply) => {
    const { user } = parsed(userParams, request.params);
    const session = kit.session(request);
    const done = (request.query as { done?: unknown }).done;
    const doneKnown = typeof done === "string" && Object.hasOwn(request.consoleState.text.done, done);
    const view = await getUser(ctx, user);
    return kit.render(request, reply, "user", {
      view,
      own: sameUser(user, session.staffUser),
      ...accountActions(session.role, view.staffRole),
      done: doneKnown ? done : undefined,
    });
  });

  app.get("/users/:user/lost/:serial", async (request, reply) => {
    const { user, serial } = parsed(lostParams, request.params);
    const session = kit.session(request);
    if (sameUser(user, session.staffUser)) throw new ConsoleRefusal(403, (text) => text.errors.ownAccount);
    const token = await getToken(ctx, serial);
    if (!sameUser(token.user, user)) throw new ConsoleRefusal(404, (text) => text.errors.notFound);
    const view = await getUser(ctx, user);
    return kit.render(request, reply, "lost", { view, token, ...accountActions(session.role, view.staffRole) });
  });

  function auditFilter(request: FastifyRequest, limit: number) {
    const query = parsed(auditQuery, request.query);
    const text = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim());
    const from = text(query.from) === undefined ? null : localDayBounds(query.from!.trim(), ctx.policy.timeZone);
    const to = text(query.to) === undefined ? null : localDayBounds(query.to!.trim(), ctx.policy.timeZone);
    const invalidDates = (text(query.from) !== undefined && from === null) || (text(query.to) !== undefined && to === null);
    const filter: AuditFilter = {
      user: text(query.user),
      serial: text(query.serial),
      actor: text(query.actor),
      event: text(query.event),
      result: text(query.result),
      since: from?.start,
      // The end day is included: up to its last millisecond, local time.
      until: to?.end,
      beforeId: query.before,
      limit,
    };
    return { query, filter, invalidDates };
  }

  app.get("/audit", async (request, reply) => {
    const { query, filter, invalidDates } = auditFilter(request, AUDIT_PAGE + 1);
    const rows = invalidDates ? [] : await readAuditLog(ctx, filter);
    const entries = rows.slice(0, AUDIT_PAGE);
    const params = new URLSearchParams(Object.entries({ ...query, before: undefined }).filter((entry): entry is [string, string] => typeof entry[1] === "string" && entry[1] !== ""));
    const older = rows.length > AUDIT_PAGE ? `/console/audit?${new URLSearchParams([...params, ["before", String(entries.at(-1)!.id)]])}` : null;
    return kit.render(request, reply, "audit", { query, entries, older, csv: `/console/audit.csv?${params}`, invalidDates });
  });

  app.get("/audit.csv", async (request, reply) => {
    const { filter, invalidDates } = auditFilter(request, AUDIT_CSV_MAX);
    const rows: AuditRecord[] = invalidDates ? [] : await readAuditLog(ctx, filter);
    const state = request.consoleState;
    const time = timeFormatter(ctx.policy.timeZone, state.language, state.text, ctx.now());
    const header = ["id", "at_utc", `at_local (${ctx.policy.timeZone})`, "actor", "role", "source", "event", "result", "user", "serial", "detail"];
    const lines = rows.map((row) =>
      [row.id, row.at, time.stamp(row.at), row.actor, row.role, row.source, row.event, row.result, row.user, row.serial, row.detail].map(csvField).join(","),
    );
    return reply
      .type("text/csv; charset=utf-8")
      .header("content-disposition", 'attachment; filename="jeton-audit.csv"')
      .send([header.join(","), ...lines].join("\r\n") + "\r\n");
  });
}
