// A small frontend, written as a case-management screen would be, against the client that
// openapi-typescript generates from casetrail's /openapi.json (./schema.d.ts, made by the
// test). `tsc --noEmit` checks it: renaming an operationId, a path or a field that these calls
// use, or loosening a typed answer into an untyped map, fails the test.
import type { components, operations } from "./schema";

type Schemas = components["schemas"];
type Json<Op extends keyof operations, Status extends keyof operations[Op]["responses"]> =
  operations[Op]["responses"][Status] extends { content: { "application/json": infer T } }
    ? T
    : never;
type Body<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { "application/json": infer T } };
}
  ? T
  : never;

async function call<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = (await response.json()) as Schemas["Problem"];
    throw new Error(`${problem.status} ${problem.title}: ${problem.detail ?? ""}`);
  }
  return (await response.json()) as T;
}

export async function openCase(token: string): Promise<string> {
  const body: Body<"openCase"> = {
    crn: "X123456",
    person: { name: "Jo Bloggs", date_of_birth: "1990-01-02" },
    sentence_type: "community_order",
    start_date: "2026-11-02",
    expected_end_date: "2027-11-01",
    pdu: "SHF",
    team: "SHF-T1",
  };
  const result = await call<Json<"openCase", 201>>(token, "POST", "/cases", body);
  const version: number = result.version;
  return `${result.case_id}@${version}/${result.position}`;
}

export async function decideRecall(token: string, caseId: string): Promise<number> {
  const body: Body<"decideRecall"> = { decision: "standard", reasons: ["risk_increased"] };
  const path = `/cases/${caseId}/recall-decisions`;
  const result = await call<Json<"decideRecall", 201>>(token, "POST", path, body);
  return result.version;
}

export async function caseHeader(token: string, caseId: string): Promise<string> {
  const view = await call<Json<"getCase", 200>>(token, "GET", `/cases/${caseId}`);
  // The person is a typed model, not a map: a missing field is a compile error.
  const name: string = view.person.name;
  const born: string = view.person.date_of_birth ?? "not yet opened";
  const practitioner: string | null = view.practitioner_id;
  const outcomes = Object.values(view.appointments).map((appointment) => {
    const type: string = appointment.type;
    const outcome: string | null = appointment.outcome;
    return `${type}:${outcome ?? "-"}`;
  });
  return `${view.crn} ${name} (${born}) ${practitioner ?? "unallocated"} ${outcomes.join(",")}`;
}

export async function timeline(token: string, caseId: string): Promise<string[]> {
  const view = await call<Json<"getCaseTimeline", 200>>(
    token,
    "GET",
    `/cases/${caseId}/timeline`,
  );
  return view.items.map((item) => `${item.occurred_at} ${item.type} by ${item.actor_id}`);
}

export async function teamCases(token: string, team: string): Promise<string[]> {
  const page = await call<Json<"listCases", 200>>(token, "GET", `/cases?team=${team}`);
  const next: string | null = page.next;
  return page.items.map((item) => `${item.crn} ${item.rosh ?? "-"} ${next ?? ""}`);
}
