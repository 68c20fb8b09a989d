import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiError, configureClient } from "./api/client";
import { useAuth, validToken } from "./store/auth";
import App from "./App";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      refetchOnWindowFocus: false,
      staleTime: 5_000,
      // Client errors (4xx) will not change on retry; network and 5xx may.
      retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
    },
  },
});

configureClient({
  getToken: () => validToken(useAuth.getState()),
  onUnauthorized: () => {
    if (!useAuth.getState().token) return;
    useAuth.getState().logout("expired");
    queryClient.clear();
  },
  // The default password is still in use: RequireAuth shows the blocking change form.
  onPasswordChangeRequired: () => {
    if (!useAuth.getState().token) return;
    useAuth.getState().requirePasswordChange(true);
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
