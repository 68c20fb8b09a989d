import { describe, expect, it } from "vitest";
import { renderer } from "../test/render";
import { parseUsage } from "../lib/analysis";
import { AnalyzerCard } from "./AnalyzerCard";

const view = renderer();

function render(analyzer: string | null, usage: unknown): HTMLElement {
  return view.render(<AnalyzerCard analyzer={analyzer} usage={parseUsage(usage)} />);
}

describe("AnalyzerCard", () => {
  it("shows what the LLM agent did", () => {
    const el = render("gpt-4o", {
      seconds: 3.2,
      llm: {
        model: "gpt-4o",
        prompt_version: "rca-2026-11-25.1",
        llm_calls: 3,
        prompt_tokens: 5210,
        completion_tokens: 412,
        tool_calls: [
          { name: "query_metrics", arguments: '{"source":"prom","query":"rate(x[5m])"}', rows: 4, ms: 120 },
          { name: "query_logs", arguments: '{"source":"loki"}', rows: 0, ms: 80, error: "loki: timeout" },
        ],
        llm_ms: 8000,
        tool_ms: 300,
        wall_ms: 8400,
        repaired: false,
        redacted_values: 5,
        outcome: "answered",
      },
    });
    const text = el.textContent ?? "";
    expect(text).toContain("rca-2026-11-25.1");
    expect(text).toContain("answered");
    expect(text).toContain("5,622 (5,210 in / 412 out)");
    expect(text).toContain("8.4 s");
    expect(text).toContain("400 ms (tools 300 ms)");
    expect(text).toContain("query_metrics");
    expect(text).toContain('{"source":"prom","query":"rate(x[5m])"}');
    expect(el.querySelector(".ant-typography-danger")?.textContent).toBe("loki: timeout");
    expect(el.querySelector(".ant-alert")).toBeNull();
    expect(text).not.toContain("≈");
  });
  it("marks token counts the server did not report as estimated", () => {
    const el = render("smollm2", {
      llm: { model: "smollm2", outcome: "answered", prompt_tokens: 2900, completion_tokens: 120, tokens_estimated: true },
    });
    expect(el.textContent).toContain("≈ 3,020 (2,900 in / 120 out)");
  });
  it("warns when the model's answer was not used", () => {
    const el = render("statistical", { llm: { model: "gpt-4o", outcome: "fallback", error: "invalid JSON after repair" } });
    expect(el.querySelector(".ant-alert-warning")?.textContent).toContain("invalid JSON after repair");
    expect(el.textContent).toContain("The model called no tools.");
  });
  it("an analysis without an LLM", () => {
    const el = render("statistical", { seconds: 0.297 });
    expect(el.textContent).toContain("statistical");
    expect(el.textContent).toContain("297 ms");
    expect(el.textContent).toContain("No LLM ran for this analysis.");
    expect(el.querySelector(".ant-table")).toBeNull();
  });
});
