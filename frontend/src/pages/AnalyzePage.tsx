import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { Alert, Button, Card, Col, Collapse, Form, Input, InputNumber, List, Row, Select, Space, Switch, Typography } from "antd";
import { ThunderboltOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { useT } from "../i18n";
import { useLang } from "../store/lang";
import { useCan, useServerInfo } from "../lib/queries";
import { buildSubmission, parseAlertInput, sampleAlertmanager, SAMPLE_TEXT, SAMPLE_TEXT_ZH, type AnalyzeFormOptions } from "../lib/alertInput";
import { formatDateTime } from "../lib/format";
import { AnalysisStatusTag, ErrorBox, PageHead } from "../components/common";
import { UnderstoodPanel } from "../components/UnderstoodPanel";
import { correctionOptions, type Corrections } from "../lib/understood";

export default function AnalyzePage() {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const navigate = useNavigate();
  const qc = useQueryClient();
  const canSubmit = useCan("engineer");
  const info = useServerInfo();
  const llm = info.data?.llm_enabled ?? false;
  const sources = useQuery({ queryKey: ["datasources"], queryFn: () => api.dataSources() });
  const recent = useQuery({ queryKey: ["analyses", "recent"], queryFn: () => api.analyses({ page: 1, page_size: 5 }) });
  const [text, setText] = useState("");
  const [opts, setOpts] = useState<AnalyzeFormOptions>({ language: "auto" });
  const json = useMemo(() => parseAlertInput(text).json, [text]);
  const noSources = sources.data && !sources.data.items.some((d) => d.enabled);
  // What was understood, shown before "Start": asked again once typing pauses.
  const [typed, setTyped] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setTyped(text), 600);
    return () => clearTimeout(timer);
  }, [text]);
  const [corrections, setCorrections] = useState<Corrections>({});
  useEffect(() => setCorrections({}), [typed]);
  const submission = () => {
    const s = buildSubmission(text, opts, llm);
    const c = correctionOptions(corrections);
    return Object.keys(c).length ? { ...s, options: { ...s.options, ...c } } : s;
  };
  const understood = useQuery({
    queryKey: ["understand", typed, opts.language, opts.baseline_minutes, opts.incident_minutes, corrections],
    queryFn: () => {
      const s = buildSubmission(typed, opts, false);
      const c = correctionOptions(corrections);
      return api.understand(Object.keys(c).length ? { ...s, options: { ...s.options, ...c } } : s);
    },
    enabled: canSubmit && typed.trim().length > 0,
    retry: false,
    placeholderData: (prev) => prev,
  });

  const submit = useMutation({
    mutationFn: () => api.submitAnalysis(submission()),
    onSuccess: (a) => {
      void qc.invalidateQueries({ queryKey: ["analyses"] });
      navigate(`/analyses/${a.id}`);
    },
  });

  return (
    <>
      <PageHead title={t("analyze.title")} />
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={16}>
          <Card>
            {noSources && (
              <Alert
                type="warning"
                showIcon
                style={{ marginBottom: 12 }}
                message={t("analyze.noSources")}
                action={<Link to="/datasources">{t("nav.datasources")}</Link>}
              />
            )}
            <Typography.Text strong>{t("analyze.input")}</Typography.Text>
            <Input.TextArea
              id="alert-input"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder={t("analyze.placeholder")}
              autoSize={{ minRows: 10, maxRows: 24 }}
              className="mono"
              style={{ marginTop: 8 }}
            />
            <Space wrap style={{ marginTop: 8 }}>
              <Button size="small" onClick={() => setText(lang === "zh-CN" ? SAMPLE_TEXT_ZH : SAMPLE_TEXT)}>
                {t("analyze.sampleText")}
              </Button>
              <Button size="small" onClick={() => setText(sampleAlertmanager())}>
                {t("analyze.sampleJson")}
              </Button>
              {json && <Typography.Text type="success">{t("analyze.jsonDetected")}</Typography.Text>}
            </Space>
            <Collapse
              ghost
              style={{ marginTop: 8 }}
              items={[
                {
                  key: "o",
                  label: t("analyze.options"),
                  children: (
                    <Form layout="vertical">
                      <Row gutter={16}>
                        <Col xs={24} sm={12} md={6}>
                          <Form.Item label={t("analyze.llm")} extra={llm ? undefined : t("analyze.llmOff")}>
                            <Switch checked={llm && (opts.llm ?? true)} disabled={!llm} onChange={(v) => setOpts({ ...opts, llm: v })} />
                          </Form.Item>
                        </Col>
                        <Col xs={24} sm={12} md={6}>
                          <Form.Item label={t("analyze.language")}>
                            <Select
                              value={opts.language}
                              onChange={(v) => setOpts({ ...opts, language: v })}
                              options={[
                                { value: "auto", label: t("analyze.languageAuto") },
                                { value: "zh", label: "中文" },
                                { value: "en", label: "English" },
                              ]}
                            />
                          </Form.Item>
                        </Col>
                        <Col xs={12} md={6}>
                          <Form.Item label={t("analyze.baseline")}>
                            <InputNumber min={1} max={1440} placeholder="30" value={opts.baseline_minutes} onChange={(v) => setOpts({ ...opts, baseline_minutes: v })} style={{ width: "100%" }} />
                          </Form.Item>
                        </Col>
                        <Col xs={12} md={6}>
                          <Form.Item label={t("analyze.incident")}>
                            <InputNumber min={1} max={1440} placeholder="10" value={opts.incident_minutes} onChange={(v) => setOpts({ ...opts, incident_minutes: v })} style={{ width: "100%" }} />
                          </Form.Item>
                        </Col>
                      </Row>
                    </Form>
                  ),
                },
              ]}
            />
            {typed.trim() && canSubmit && (
              <UnderstoodPanel
                understood={understood.data}
                loading={understood.isFetching}
                corrections={corrections}
                onChange={setCorrections}
              />
            )}
            {understood.isError && <ErrorBox error={understood.error} />}
            {submit.isError && <ErrorBox error={submit.error} />}
            <Button
              type="primary"
              size="large"
              icon={<ThunderboltOutlined />}
              disabled={!text.trim() || !canSubmit}
              loading={submit.isPending}
              onClick={() => submit.mutate()}
              data-testid="analyze-start"
              style={{ marginTop: 12 }}
            >
              {t("analyze.start")}
            </Button>
          </Card>
        </Col>
        <Col xs={24} xl={8}>
          <Card title={t("analyze.recent")} extra={<Link to="/analyses">{t("nav.history")}</Link>}>
            <List
              loading={recent.isPending}
              dataSource={recent.data?.items ?? []}
              locale={{ emptyText: t("history.empty") }}
              renderItem={(a) => (
                <List.Item>
                  <List.Item.Meta
                    title={<Link to={`/analyses/${a.id}`}>{a.title || a.id}</Link>}
                    description={formatDateTime(a.created_at)}
                  />
                  <AnalysisStatusTag status={a.status} />
                </List.Item>
              )}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
