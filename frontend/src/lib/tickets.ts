// The ticket state machine as the UI offers it (SPEC §6); the server enforces it.
import type { Role, Severity, TicketDetail, TicketStatus, TicketUpdate } from "../api/types";

export interface Transition {
  to: TicketStatus;
  /** A reason must be given (closing an open ticket as a false alarm). */
  needsReason: boolean;
  /** Message key of the action's label. */
  action: "start" | "resolve" | "close" | "closeFalseAlarm" | "reopen" | "reopenClosed";
}

export function transitions(from: TicketStatus): Transition[] {
  switch (from) {
    case "open":
      return [
        { to: "processing", needsReason: false, action: "start" },
        { to: "closed", needsReason: true, action: "closeFalseAlarm" },
      ];
    case "processing":
      return [{ to: "resolved", needsReason: false, action: "resolve" }];
    case "resolved":
      return [
        { to: "closed", needsReason: false, action: "close" },
        { to: "processing", needsReason: false, action: "reopen" },
      ];
    case "closed":
      return [{ to: "processing", needsReason: true, action: "reopenClosed" }];
  }
}

export function canTransition(from: TicketStatus, to: TicketStatus): boolean {
  return transitions(from).some((t) => t.to === to);
}

const RANK: Record<Role, number> = { viewer: 0, engineer: 1, admin: 2 };

/** Whether `role` may do what `min` may (roles are ordered viewer < engineer < admin). */
export function hasRole(role: Role | undefined, min: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[min];
}

export const SEVERITY_COLOR: Record<string, string> = {
  P0: "red",
  P1: "volcano",
  P2: "gold",
  P3: "blue",
};

export const TICKET_STATUS_COLOR: Record<TicketStatus, string> = {
  open: "blue",
  processing: "orange",
  resolved: "green",
  closed: "default",
};

export interface TicketFormValues {
  title: string;
  root_cause: string;
  severity: Severity;
  assignee?: string;
  description?: string;
  /** Only in the edit form of a resolved or confirmed ticket. */
  confirmed_root_cause?: string;
  resolution?: string;
}

export const SEVERITIES: Severity[] = ["P0", "P1", "P2", "P3"];

export function asSeverity(s: string | null | undefined): Severity {
  return SEVERITIES.includes(s as Severity) ? (s as Severity) : "P2";
}

/** The PATCH body for an edit: changed fields only, plus the version read. */
export function ticketChanges(before: TicketDetail, v: TicketFormValues): TicketUpdate {
  const p: TicketUpdate = { version: before.version };
  if (v.title.trim() !== before.title) p.title = v.title.trim();
  if ((v.root_cause ?? "").trim() !== (before.root_cause ?? "")) p.root_cause = (v.root_cause ?? "").trim();
  if (v.severity !== before.severity) p.severity = v.severity;
  const assignee = v.assignee?.trim() || null;
  if (assignee !== (before.assignee ?? null)) p.assignee = assignee;
  const description = v.description?.trim() || null;
  if (description !== (before.description ?? null)) p.description = description;
  if (v.confirmed_root_cause !== undefined) {
    const cause = v.confirmed_root_cause?.trim() || null;
    if (cause !== (before.confirmed_root_cause ?? null)) p.confirmed_root_cause = cause;
  }
  if (v.resolution !== undefined) {
    const resolution = v.resolution?.trim() || null;
    if (resolution !== (before.resolution ?? null)) p.resolution = resolution;
  }
  return p;
}

