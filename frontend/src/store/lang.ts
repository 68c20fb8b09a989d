// The UI language: chosen by the user, else Chinese when the browser prefers it.
import { create } from "zustand";
import { createJSONStorage, persist } from "zustand/middleware";

export type Lang = "zh-CN" | "en";

/** Chinese when the browser's first Chinese-or-English preference is Chinese. */
export function browserLang(languages: readonly string[] | undefined): Lang {
  for (const l of languages ?? []) {
    const x = l.toLowerCase();
    if (x.startsWith("zh")) return "zh-CN";
    if (x.startsWith("en")) return "en";
  }
  return "en";
}

function detect(): Lang {
  if (typeof navigator === "undefined") return "en";
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  return browserLang(langs);
}

interface LangState {
  lang: Lang;
  setLang: (l: Lang) => void;
}

export const useLang = create<LangState>()(
  persist(
    (set) => ({
      lang: detect(),
      setLang: (lang) => set({ lang }),
    }),
    { name: "oncall.lang", storage: createJSONStorage(() => localStorage) },
  ),
);
