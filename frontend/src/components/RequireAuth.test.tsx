import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { MemoryRouter } from "react-router-dom";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App as AntdApp } from "antd";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuth } from "../store/auth";
import { prepareDom } from "../test/render";

const me = vi.fn();
const changePassword = vi.fn();
vi.mock("../api/endpoints", () => ({ api: { me: () => me(), changePassword: (a: string, b: string) => changePassword(a, b) } }));

const { RequireAuth } = await import("./RequireAuth");

const user = (isDefault: boolean) => ({
  id: "u1",
  email: "admin@oncall.example.com",
  name: "admin",
  role: "admin",
  disabled: false,
  password_is_default: isDefault,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
});

let root: Root | null = null;
let host: HTMLElement | null = null;

beforeAll(prepareDom);

beforeEach(() => {
  me.mockReset();
  changePassword.mockReset();
  useAuth.getState().login("old-token", 3600);
});

afterEach(() => {
  act(() => root?.unmount());
  host?.remove();
  root = null;
  host = null;
});

async function settle() {
  for (let i = 0; i < 20; i++) await act(() => new Promise((r) => setTimeout(r, 10)));
}

async function render() {
  host = document.createElement("div");
  document.body.appendChild(host);
  root = createRoot(host);
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  act(() =>
    root!.render(
      <QueryClientProvider client={qc}>
        <AntdApp>
          <MemoryRouter initialEntries={["/tickets"]}>
            <RequireAuth>
              <div data-testid="page">the page</div>
            </RequireAuth>
          </MemoryRouter>
        </AntdApp>
      </QueryClientProvider>,
    ),
  );
  await settle();
  return host;
}

function type(el: Element | null, value: string) {
  const input = el as HTMLInputElement;
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!.call(input, value);
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

describe("RequireAuth with the default password", () => {
  it("shows the page when the password is not the default", async () => {
    me.mockResolvedValue(user(false));
    const h = await render();
    expect(h.querySelector("[data-testid=page]")).not.toBeNull();
    expect(h.querySelector("[data-testid=password-required]")).toBeNull();
  });

  it("blocks the page with the change form, then carries on with the new token", async () => {
    me.mockImplementation(async () => user(useAuth.getState().token === "old-token"));
    changePassword.mockResolvedValue({ user: user(false), access_token: "new-token", token_type: "bearer", expires_in: 3600 });
    const h = await render();
    expect(h.querySelector("[data-testid=page]")).toBeNull();
    expect(h.querySelector("[data-testid=password-required]")?.textContent).toContain("admin@oncall.example.com");
    act(() => {
      type(h.querySelector("#current"), "admin123");
      type(h.querySelector("#next"), "a-new-password");
      type(h.querySelector("#again"), "a-new-password");
    });
    act(() => (h.querySelector("[data-testid=password-required-submit]") as HTMLButtonElement).click());
    await settle();
    expect(changePassword).toHaveBeenCalledWith("admin123", "a-new-password");
    expect(useAuth.getState().token).toBe("new-token");
    expect(h.querySelector("[data-testid=password-required]")).toBeNull();
    expect(h.querySelector("[data-testid=page]")).not.toBeNull();
  });

  it("refuses a new password equal to the current one without asking the server", async () => {
    me.mockResolvedValue(user(true));
    const h = await render();
    act(() => {
      type(h.querySelector("#current"), "admin123x");
      type(h.querySelector("#next"), "admin123x");
      type(h.querySelector("#again"), "admin123x");
    });
    act(() => (h.querySelector("[data-testid=password-required-submit]") as HTMLButtonElement).click());
    await settle();
    expect(changePassword).not.toHaveBeenCalled();
    expect(h.textContent).toContain("Choose a password other than the current one.");
  });

  it("shows the form after a 403 password_change_required even when the profile did not say so", async () => {
    me.mockResolvedValue(user(false));
    const h = await render();
    expect(h.querySelector("[data-testid=page]")).not.toBeNull();
    act(() => useAuth.getState().requirePasswordChange(true));
    expect(h.querySelector("[data-testid=page]")).toBeNull();
    expect(h.querySelector("[data-testid=password-required]")).not.toBeNull();
  });
});
