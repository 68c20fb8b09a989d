import { describe, expect, it } from "vitest";
import type { TicketDetail, TicketStatus } from "../api/types";
import { asSeverity, canTransition, hasRole, ticketChanges, transitions } from "./tickets";

describe("ticket transitions (SPEC §6)", () => {
  const all: TicketStatus[] = ["open", "processing", "resolved", "closed"];
  const allowed = new Set(["open>processing", "processing>resolved", "resolved>closed", "open>closed", "resolved>processing", "closed>processing"]);
  it("offers exactly the allowed moves", () => {
    for (const from of all) for (const to of all) expect(canTransition(from, to), `${from}>${to}`).toBe(allowed.has(`${from}>${to}`));
  });
  it("asks for a reason only to close an open ticket", () => {
    expect(transitions("open").find((t) => t.to === "closed")?.needsReason).toBe(true);
    expect(transitions("resolved").find((t) => t.to === "closed")?.needsReason).toBe(false);
    expect(transitions("closed")).toEqual([{ to: "processing", needsReason: true, action: "reopenClosed" }]);
  });
});

describe("roles", () => {
  it("are ordered viewer < engineer < admin", () => {
    expect(hasRole("admin", "engineer")).toBe(true);
    expect(hasRole("engineer", "engineer")).toBe(true);
    expect(hasRole("viewer", "engineer")).toBe(false);
    expect(hasRole("engineer", "admin")).toBe(false);
    expect(hasRole(undefined, "viewer")).toBe(false);
  });
});

describe("ticketChanges of a confirmation", () => {
  const resolved = {
    no: "INC-20260101-0002",
    title: "Slow checkout",
    root_cause: "",
    severity: "P2",
    status: "resolved",
    assignee: null,
    description: null,
    confirmed_root_cause: "ts-order-service",
    resolution: "rolled back v2.3",
    version: 4,
  } as unknown as TicketDetail;
  const same = { title: "Slow checkout", root_cause: "", severity: "P2" as const };
  it("sends a corrected cause, clears with null, and leaves fields the form did not show", () => {
    expect(ticketChanges(resolved, { ...same, confirmed_root_cause: " mysql ", resolution: "rolled back v2.3" })).toEqual({
      version: 4,
      confirmed_root_cause: "mysql",
    });
    expect(ticketChanges(resolved, { ...same, confirmed_root_cause: "", resolution: "" })).toEqual({
      version: 4,
      confirmed_root_cause: null,
      resolution: null,
    });
    expect(ticketChanges(resolved, same)).toEqual({ version: 4 });
  });
});

describe("ticketChanges", () => {
  const before = {
    no: "INC-20260101-0001",
    title: "Disk full",
    root_cause: "logs not rotated",
    severity: "P2",
    status: "open",
    assignee: "a@example.com",
    description: null,
    version: 7,
  } as unknown as TicketDetail;
  it("sends only what changed, with the version read", () => {
    expect(ticketChanges(before, { title: "Disk full", root_cause: "logs not rotated", severity: "P2", assignee: "a@example.com" })).toEqual({
      version: 7,
    });
    expect(ticketChanges(before, { title: " Disk full on db-2 ", root_cause: "logs not rotated", severity: "P1", assignee: "", description: "see runbook" })).toEqual({
      version: 7,
      title: "Disk full on db-2",
      severity: "P1",
      assignee: null,
      description: "see runbook",
    });
  });
  it("severity falls back to P2", () => {
    expect(asSeverity("P0")).toBe("P0");
    expect(asSeverity("critical")).toBe("P2");
    expect(asSeverity(null)).toBe("P2");
  });
});
