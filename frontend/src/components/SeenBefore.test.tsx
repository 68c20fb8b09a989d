import { describe, expect, it } from "vitest";
import { renderer } from "../test/render";
import { SeenBeforeCard } from "./SeenBefore";
import type { PastIncident } from "../api/types";

const { render, setLang } = renderer({ router: true });

const past = (over: Partial<PastIncident> = {}): PastIncident => ({
  analysis_id: "0193a1b2-0000-7000-8000-000000000001",
  title: "EntrySLODegraded ts-contacts-service",
  alert_name: "EntrySLODegraded",
  incident_at: "2026-01-29T08:43:04Z",
  similarity: 0.82,
  shared: ["log template #00ab12cd34ef5678", "suspect ts-contacts-service"],
  top_suspect: "ts-gateway-service",
  ticket_no: "INC-20260129-0001",
  ticket_status: "resolved",
  confirmed_root_cause: "ts-contacts-service",
  resolution: "rolled back v2.3",
  ...over,
});

describe("SeenBeforeCard", () => {
  it("links the past analysis and its ticket, with similarity, confirmed cause and resolution", () => {
    const h = render(<SeenBeforeCard items={[past(), past({ analysis_id: "x2", ticket_no: undefined, ticket_status: undefined, confirmed_root_cause: undefined, resolution: undefined, similarity: 0.41 })]} />);
    const items = h.querySelectorAll("[data-testid=seen-before-item]");
    expect(items).toHaveLength(2);
    const first = items[0]!;
    expect(first.querySelector('a[href="/analyses/0193a1b2-0000-7000-8000-000000000001"]')).not.toBeNull();
    expect(first.querySelector('a[href="/tickets/INC-20260129-0001"]')!.textContent).toBe("INC-20260129-0001");
    expect(first.textContent).toContain("0.82");
    expect(first.textContent).toContain("Confirmed root cause: ts-contacts-service");
    expect(first.textContent).toContain("resolved by: rolled back v2.3");
    expect(first.textContent).toContain("In common: log template #00ab12cd34ef5678, suspect ts-contacts-service");
    const second = items[1]!;
    expect(second.textContent).toContain("no ticket");
    expect(second.textContent).toContain("Not confirmed; top suspect then: ts-gateway-service");
  });

  it("says when nothing similar was seen, in Chinese too", () => {
    setLang("zh-CN");
    const h = render(<SeenBeforeCard items={[]} />);
    expect(h.textContent).toContain("曾经见过");
    expect(h.textContent).toContain("没有相似的历史事件");
  });
});
