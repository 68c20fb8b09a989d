// Rendering a component in a component test (jsdom): what Ant Design needs of the
// DOM, a fresh root per test, unmounted after it, the UI's language set first.
//
//   const view = renderer({ router: true });
//   it("…", () => { const el = view.render(<Card />); … view.rerender(<Card other />); });
//   it("… in Chinese", () => { view.setLang("zh-CN"); const el = view.render(<Card />); … });
import { act, type ReactNode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { MemoryRouter } from "react-router-dom";
import { afterEach, beforeAll, beforeEach } from "vitest";
import { useLang, type Lang } from "../store/lang";

/** What jsdom lacks for Ant Design: media queries (responsive grids), pseudo-element styles (tables). */
export function prepareDom(): void {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
  window.matchMedia ??= (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
  // jsdom has no pseudo-element styles (antd's table measures the scrollbar with one).
  const getStyle = window.getComputedStyle.bind(window);
  window.getComputedStyle = (elt: Element) => getStyle(elt);
}

export interface Renderer {
  /** Mounts `node` in a fresh element in the document; returns that element. */
  render(node: ReactNode): HTMLElement;
  /** Renders `node` in place of what the last `render` mounted. */
  rerender(node: ReactNode): void;
  /** Switches the UI's language (what is mounted follows it). */
  setLang(lang: Lang): void;
}

/**
 * Registers the test file's hooks (call it at the top level of a test file): the DOM
 * prepared once, the language set before each test (English unless told), the
 * rendered tree unmounted and removed after each. `router` wraps in a MemoryRouter.
 */
export function renderer({ lang = "en", router = false }: { lang?: Lang; router?: boolean } = {}): Renderer {
  let root: Root | null = null;
  let host: HTMLElement | null = null;
  const wrap = (node: ReactNode) => (router ? <MemoryRouter>{node}</MemoryRouter> : node);

  beforeAll(prepareDom);
  beforeEach(() => useLang.setState({ lang }));
  afterEach(() => {
    act(() => root?.unmount());
    host?.remove();
    root = null;
    host = null;
  });

  return {
    render(node) {
      host = document.createElement("div");
      document.body.appendChild(host);
      root = createRoot(host);
      act(() => root!.render(wrap(node)));
      return host;
    },
    rerender(node) {
      if (!root) throw new Error("rerender before render");
      act(() => root!.render(wrap(node)));
    },
    setLang(l) {
      act(() => useLang.setState({ lang: l }));
    },
  };
}
