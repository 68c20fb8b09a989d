import { describe, expect, it } from "vitest";
import { en } from "./en";
import { zhCN } from "./zh-CN";
import { translate } from "./index";

describe("messages", () => {
  it("zh-CN translates every key, with the same placeholders", () => {
    for (const k of Object.keys(en) as (keyof typeof en)[]) {
      expect(zhCN[k], k).toBeTruthy();
      const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(ph(zhCN[k]), k).toEqual(ph(en[k]));
    }
    expect(Object.keys(zhCN).length).toBe(Object.keys(en).length);
  });
  it("fills placeholders and leaves unknown ones", () => {
    expect(translate("en", "tickets.created", { no: "INC-20260101-0001" })).toBe("Ticket INC-20260101-0001 created.");
    expect(translate("zh-CN", "common.total", { n: 3 })).toBe("共 3 条");
    expect(translate("en", "common.total")).toBe("{n} in all");
  });
});
