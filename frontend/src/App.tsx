import { lazy, Suspense, useEffect } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { App as AntdApp, ConfigProvider } from "antd";
import enUS from "antd/locale/en_US";
import zhCN from "antd/locale/zh_CN";
import dayjs from "dayjs";
import "dayjs/locale/zh-cn";
import { useLang } from "./store/lang";
import { RequireAuth, RequireRole } from "./components/RequireAuth";
import AppLayout from "./components/AppLayout";
import LoginPage from "./pages/LoginPage";
import { PageSpinner } from "./components/shell";

const AnalyzePage = lazy(() => import("./pages/AnalyzePage"));
const AnalysisPage = lazy(() => import("./pages/AnalysisPage"));
const HistoryPage = lazy(() => import("./pages/HistoryPage"));
const TicketsPage = lazy(() => import("./pages/TicketsPage"));
const TicketPage = lazy(() => import("./pages/TicketPage"));
const AccuracyPage = lazy(() => import("./pages/AccuracyPage"));
const DataSourcesPage = lazy(() => import("./pages/DataSourcesPage"));
const UsersPage = lazy(() => import("./pages/UsersPage"));
const WebhooksPage = lazy(() => import("./pages/WebhooksPage"));
const ChannelsPage = lazy(() => import("./pages/ChannelsPage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));

export default function App() {
  const lang = useLang((s) => s.lang);
  useEffect(() => {
    dayjs.locale(lang === "zh-CN" ? "zh-cn" : "en");
    document.documentElement.lang = lang;
  }, [lang]);

  return (
    <ConfigProvider locale={lang === "zh-CN" ? zhCN : enUS} theme={{ token: { colorPrimary: "#1677ff" } }}>
      <AntdApp>
        <BrowserRouter>
          <Suspense fallback={<PageSpinner />}>
            <Routes>
              <Route path="/login" element={<LoginPage />} />
              <Route
                element={
                  <RequireAuth>
                    <AppLayout />
                  </RequireAuth>
                }
              >
                <Route index element={<Navigate to="/analyze" replace />} />
                <Route path="analyze" element={<AnalyzePage />} />
                <Route path="analyses" element={<HistoryPage />} />
                <Route path="analyses/:id" element={<AnalysisPage />} />
                <Route path="tickets" element={<TicketsPage />} />
                <Route path="tickets/:no" element={<TicketPage />} />
                <Route path="accuracy" element={<AccuracyPage />} />
                <Route path="datasources" element={<DataSourcesPage />} />
                <Route
                  path="users"
                  element={
                    <RequireRole role="admin">
                      <UsersPage />
                    </RequireRole>
                  }
                />
                <Route
                  path="webhooks"
                  element={
                    <RequireRole role="admin">
                      <WebhooksPage />
                    </RequireRole>
                  }
                />
                <Route
                  path="channels"
                  element={
                    <RequireRole role="admin">
                      <ChannelsPage />
                    </RequireRole>
                  }
                />
                <Route path="*" element={<NotFoundPage />} />
              </Route>
            </Routes>
          </Suspense>
        </BrowserRouter>
      </AntdApp>
    </ConfigProvider>
  );
}
