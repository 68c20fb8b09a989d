// Names for the generated OpenAPI types (src/api/schema.d.ts, `npm run gen:api`), plus
// the shapes the spec documents but the server does not publish yet.
import type { components } from "./schema";

type S = components["schemas"];

export type LoginResponse = S["LoginResponse"];
export type PasswordChanged = S["PasswordChanged"];
export type ServerInfo = S["ServerInfo"];
export type User = S["User"];
export type Role = S["Role"];
export type NewUser = S["NewUser"];
export type UserPatch = S["UserPatch"];
export type UserPage = S["UserPage"];
export type DataSource = S["DataSourceView"];
export type DataSourceInput = S["DataSourceInput"];
export type DataSourceKind = S["DataSourceKind"];
export type AuthKind = S["AuthKind"];
export type DataSourcePage = S["DataSourcePage"];
export type Analysis = S["AnalysisView"];
export type AnalysisSummary = S["AnalysisSummary"];
export type PastIncident = S["PastIncident"];
export type AnalysisResult = S["AnalysisResult"];
export type ResultEvidence = S["EvidenceItem"];
export type ResultSuspect = S["ResultSuspect"];
export type WindowPlan = S["WindowPlan"];
export type SourceReport = S["SourceReport"];
export type EvidenceView = S["EvidenceView"];
export type LogTemplateView = S["LogTemplateView"];
export type LogLevelName = S["LogLevelName"];
export type MetricShiftView = S["MetricShiftView"];
export type AlertQueryView = S["AlertQueryView"];
export type MetricPoint = S["MetricPoint"];
export type ErrorOriginView = S["ErrorOriginView"];
export type PathDivergenceView = S["PathDivergenceView"];
export type MissingStepView = S["MissingStepView"];
export type SuspectView = S["SuspectView"];
export type LatencySuspectView = S["LatencySuspectView"];
export type EdgeShiftView = S["EdgeShiftView"];
export type SubjectView = S["SubjectView"];
export type ResourceFindingView = S["ResourceFindingView"];
export type ResourceName = S["ResourceName"];
export type CoverageView = S["CoverageView"];
export type ServiceGraphView = S["ServiceGraphView"];
export type GraphEdgeView = S["GraphEdgeView"];
export type GraphEdgeWhat = S["GraphEdgeWhat"];
export type GraphSuspectView = S["GraphSuspectView"];
export type EvidenceWindow = S["EvidenceWindow"];
export type AnalysisStatus = S["AnalysisStatus"];
export type AnalysisOptions = S["AnalysisOptions"];
export type AnalysisPage = S["AnalysisPage"];
export type SubmitAnalysis = S["SubmitAnalysis"];
export type Accepted = S["Accepted"];
export type Ticket = S["Ticket"];
export type TicketPage = S["TicketPage"];
export type TicketDetail = S["TicketDetail"];
export type TicketHistoryEntry = S["TicketHistoryEntry"];
export type TicketInput = S["TicketInput"];
export type TicketStatus = S["TicketStatus"];
export type Severity = S["Severity"];
export type AccuracyReport = S["AccuracyReport"];
export type AccuracyCount = S["AccuracyCount"];
export type MonthAccuracy = S["MonthAccuracy"];
export type AlertAccuracy = S["AlertAccuracy"];
export type AccuracyMiss = S["AccuracyMiss"];
export type ErrorBody = S["ErrorBody"];
export type UnderstoodAlert = S["UnderstoodAlert"];
export type SourceStatus = S["SourceStatus"];
export type AnalysisTiming = S["AnalysisTiming"];
export type DataSourceTest = S["DataSourceTestView"];
export type Webhook = S["WebhookView"];
export type WebhookWithToken = S["WebhookWithToken"];
export type WebhookInput = S["WebhookInput"];
export type WebhookPage = S["WebhookPage"];
export type WebhookKind = S["WebhookKind"];
export type Channel = S["ChannelView"];
export type ChannelInput = S["ChannelInput"];
export type ChannelPage = S["ChannelPage"];
export type ChannelKind = S["ChannelKind"];
export type ChannelTest = S["ChannelTest"];
export type Delivery = S["Delivery"];
export type DeliveryPage = S["DeliveryPage"];
export type NotificationEvent = S["NotificationEvent"];

/** `PATCH /api/tickets/{no}`: `assignee`, `description`, `confirmed_root_cause` and
 * `resolution` take `null` to clear. */
export type TicketUpdate = Omit<S["TicketUpdate"], "assignee" | "description" | "confirmed_root_cause" | "resolution"> & {
  assignee?: string | null;
  description?: string | null;
  confirmed_root_cause?: string | null;
  resolution?: string | null;
};

/** `POST /api/datasources/{id}/test` (SPEC §4; lands with the connectors). */
export interface ConnectionTest {
  ok: boolean;
  latency_ms: number;
  version?: string | null;
  message: string;
  error?: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}
