// Messages for the two UI languages, and `t` with `{name}` placeholders.
import { useCallback } from "react";
import { useLang, type Lang } from "../store/lang";
import { en, type MessageKey } from "./en";
import { zhCN } from "./zh-CN";

export type { MessageKey };

const messages: Record<Lang, Record<MessageKey, string>> = { en, "zh-CN": zhCN };

export type Vars = Record<string, string | number>;

export function translate(lang: Lang, key: MessageKey, vars?: Vars): string {
  const s = messages[lang][key] ?? en[key] ?? key;
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export type T = (key: MessageKey, vars?: Vars) => string;

export function useT(): T {
  const lang = useLang((s) => s.lang);
  return useCallback((key: MessageKey, vars?: Vars) => translate(lang, key, vars), [lang]);
}
