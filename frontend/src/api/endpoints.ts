// One function per REST endpoint the UI calls (SPEC §4).
import { request } from "./client";
import type {
  AccuracyReport,
  Accepted,
  Analysis,
  AnalysisPage,
  AnalysisStatus,
  PastIncident,
  Channel,
  ChannelInput,
  ChannelPage,
  ChannelTest,
  ConnectionTest,
  DeliveryPage,
  UnderstoodAlert,
  Webhook,
  WebhookInput,
  WebhookPage,
  WebhookWithToken,
  DataSource,
  DataSourceInput,
  DataSourcePage,
  LoginResponse,
  PasswordChanged,
  NewUser,
  ServerInfo,
  Severity,
  SubmitAnalysis,
  TicketDetail,
  TicketInput,
  TicketPage,
  TicketStatus,
  TicketUpdate,
  User,
  UserPage,
  UserPatch,
} from "./types";

export const api = {
  info: () => request<ServerInfo>("/api/info", { auth: false }),
  login: (email: string, password: string) =>
    request<LoginResponse>("/api/auth/login", { method: "POST", body: { email, password }, auth: false }),
  me: () => request<User>("/api/auth/me"),
  changePassword: (current_password: string, new_password: string) =>
    request<PasswordChanged>("/api/auth/password", { method: "POST", body: { current_password, new_password } }),

  users: (page = 1, page_size = 200) => request<UserPage>("/api/users", { query: { page, page_size } }),
  createUser: (u: NewUser) => request<User>("/api/users", { method: "POST", body: u }),
  updateUser: (id: string, p: UserPatch) => request<User>(`/api/users/${enc(id)}`, { method: "PATCH", body: p }),

  dataSources: (page = 1, page_size = 200) =>
    request<DataSourcePage>("/api/datasources", { query: { page, page_size } }),
  createDataSource: (d: DataSourceInput) => request<DataSource>("/api/datasources", { method: "POST", body: d }),
  updateDataSource: (id: string, d: DataSourceInput) =>
    request<DataSource>(`/api/datasources/${enc(id)}`, { method: "PUT", body: d }),
  deleteDataSource: (id: string) => request<void>(`/api/datasources/${enc(id)}`, { method: "DELETE" }),
  testDataSource: (id: string) => request<ConnectionTest>(`/api/datasources/${enc(id)}/test`, { method: "POST" }),

  submitAnalysis: (s: SubmitAnalysis) => request<Accepted>("/api/analysis", { method: "POST", body: s }),
  understand: (s: SubmitAnalysis) => request<UnderstoodAlert>("/api/analysis/understand", { method: "POST", body: s }),
  analysis: (id: string) => request<Analysis>(`/api/analysis/${enc(id)}`),
  similarAnalyses: (id: string) => request<PastIncident[]>(`/api/analysis/${enc(id)}/similar`),
  analysisRevisions: (id: string) => request<Analysis[]>(`/api/analysis/${enc(id)}/revisions`),
  analyses: (f: AnalysisFilter) => request<AnalysisPage>("/api/analysis", { query: { ...f } }),

  webhooks: (page = 1, page_size = 200) => request<WebhookPage>("/api/webhooks", { query: { page, page_size } }),
  createWebhook: (w: WebhookInput) => request<WebhookWithToken>("/api/webhooks", { method: "POST", body: w }),
  updateWebhook: (id: string, w: WebhookInput) => request<Webhook>(`/api/webhooks/${enc(id)}`, { method: "PUT", body: w }),
  rotateWebhookToken: (id: string) => request<WebhookWithToken>(`/api/webhooks/${enc(id)}/token`, { method: "POST" }),
  deleteWebhook: (id: string) => request<void>(`/api/webhooks/${enc(id)}`, { method: "DELETE" }),

  channels: (page = 1, page_size = 200) => request<ChannelPage>("/api/notification-channels", { query: { page, page_size } }),
  createChannel: (c: ChannelInput) => request<Channel>("/api/notification-channels", { method: "POST", body: c }),
  updateChannel: (id: string, c: ChannelInput) =>
    request<Channel>(`/api/notification-channels/${enc(id)}`, { method: "PUT", body: c }),
  deleteChannel: (id: string) => request<void>(`/api/notification-channels/${enc(id)}`, { method: "DELETE" }),
  testChannel: (id: string) => request<ChannelTest>(`/api/notification-channels/${enc(id)}/test`, { method: "POST" }),
  deliveries: (id: string, page = 1, page_size = 20) =>
    request<DeliveryPage>(`/api/notification-channels/${enc(id)}/deliveries`, { query: { page, page_size } }),

  createTicket: (t: TicketInput) => request<TicketDetail>("/api/tickets", { method: "POST", body: t }),
  tickets: (f: TicketFilter) => request<TicketPage>("/api/tickets", { query: { ...f } }),
  ticket: (no: string) => request<TicketDetail>(`/api/tickets/${enc(no)}`),
  updateTicket: (no: string, p: TicketUpdate) =>
    request<TicketDetail>(`/api/tickets/${enc(no)}`, { method: "PATCH", body: p }),
  accuracy: (f: { since?: string; until?: string }) => request<AccuracyReport>("/api/stats/accuracy", { query: { ...f } }),
};

export interface AnalysisFilter {
  page?: number;
  page_size?: number;
  status?: AnalysisStatus;
  since?: string;
  until?: string;
  q?: string;
}

export interface TicketFilter {
  page?: number;
  page_size?: number;
  status?: TicketStatus;
  severity?: Severity;
  assignee?: string;
  q?: string;
  since?: string;
  until?: string;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
