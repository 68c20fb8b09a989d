import { beforeEach, describe, expect, it } from "vitest";
import { loginUrl, safeNext, useAuth, validToken } from "./auth";
import { browserLang } from "./lang";

describe("auth store", () => {
  beforeEach(() => useAuth.getState().logout("signed-out"));

  it("keeps the token until it expires", () => {
    useAuth.getState().login("abc", 3600, 1_000_000);
    const s = useAuth.getState();
    expect(s.expiresAt).toBe(1_000_000 + 3_600_000);
    expect(validToken(s, 1_000_000 + 3_599_999)).toBe("abc");
    expect(validToken(s, 1_000_000 + 3_600_000)).toBeNull();
  });

  it("remembers why the session ended, until cleared", () => {
    useAuth.getState().login("abc", 60);
    useAuth.getState().logout("expired");
    expect(useAuth.getState().token).toBeNull();
    expect(useAuth.getState().reason).toBe("expired");
    useAuth.getState().clearReason();
    expect(useAuth.getState().reason).toBeNull();
  });

  it("knows a chosen sign-out from an expired session", () => {
    useAuth.getState().login("abc", 60);
    useAuth.getState().logout("signed-out");
    expect(useAuth.getState().reason).toBe("signed-out");
    useAuth.getState().login("abc", 60);
    expect(useAuth.getState().reason).toBeNull();
  });

  it("keeps 'password change required' until a new token or a sign-out, and never persists it", () => {
    useAuth.getState().login("abc", 60, 0);
    useAuth.getState().requirePasswordChange(true);
    expect(useAuth.getState().passwordChangeRequired).toBe(true);
    expect(JSON.parse(localStorage.getItem("oncall.auth")!).state).not.toHaveProperty("passwordChangeRequired");
    useAuth.getState().login("def", 60, 0);
    expect(useAuth.getState().passwordChangeRequired).toBe(false);
    useAuth.getState().requirePasswordChange(true);
    useAuth.getState().logout("signed-out");
    expect(useAuth.getState().passwordChangeRequired).toBe(false);
  });

  it("persists only the token and its expiry", () => {
    useAuth.getState().login("abc", 60, 0);
    useAuth.getState().logout("expired");
    useAuth.getState().login("def", 60, 0);
    expect(JSON.parse(localStorage.getItem("oncall.auth")!).state).toEqual({ token: "def", expiresAt: 60_000 });
  });
});

describe("safeNext / loginUrl", () => {
  it("accepts only paths of this app", () => {
    expect(safeNext("/tickets/INC-1?x=1")).toBe("/tickets/INC-1?x=1");
    expect(safeNext("https://evil.example/")).toBe("/");
    expect(safeNext("//evil.example/")).toBe("/");
    expect(safeNext("/\\evil.example")).toBe("/");
    expect(safeNext("/login?next=/x")).toBe("/");
    expect(safeNext(null)).toBe("/");
  });
  it("builds the login URL that comes back", () => {
    expect(loginUrl("/analyses?status=failed")).toBe("/login?next=%2Fanalyses%3Fstatus%3Dfailed");
    expect(loginUrl("/")).toBe("/login");
  });
});

describe("browserLang", () => {
  it("is Chinese when the browser prefers Chinese", () => {
    expect(browserLang(["zh-CN", "en"])).toBe("zh-CN");
    expect(browserLang(["zh-TW"])).toBe("zh-CN");
    expect(browserLang(["en-US", "zh-CN"])).toBe("en");
    expect(browserLang(["de-DE", "zh"])).toBe("zh-CN");
    expect(browserLang(["fr"])).toBe("en");
    expect(browserLang([])).toBe("en");
  });
});
