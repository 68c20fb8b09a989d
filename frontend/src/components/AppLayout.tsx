import { lazy, Suspense, useState } from "react";
import { Link, Outlet, useLocation, useNavigate } from "react-router-dom";
import { Alert, Avatar, Button, Dropdown, Grid, Layout, Menu, Tag } from "antd";
import {
  AimOutlined,
  AlertOutlined,
  ApiOutlined,
  BellOutlined,
  LinkOutlined,
  DatabaseOutlined,
  HistoryOutlined,
  KeyOutlined,
  LogoutOutlined,
  MenuOutlined,
  ProfileOutlined,
  TeamOutlined,
  UserOutlined,
} from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { useT, type MessageKey } from "../i18n";
import { useAuth } from "../store/auth";
import { useMe } from "../lib/queries";
import { hasRole } from "../lib/tickets";
import { LangSwitch } from "./shell";
const PasswordModal = lazy(() => import("./PasswordModal"));

const ROLE_COLOR = { admin: "red", engineer: "blue", viewer: "default" } as const;

export default function AppLayout() {
  const t = useT();
  const me = useMe().data;
  const location = useLocation();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const logout = useAuth((s) => s.logout);
  const screens = Grid.useBreakpoint();
  const narrow = !screens.lg;
  const [collapsed, setCollapsed] = useState(true);
  const [pwOpen, setPwOpen] = useState(false);

  const items = [
    { key: "/analyze", icon: <AlertOutlined />, label: <Link to="/analyze">{t("nav.analyze")}</Link> },
    { key: "/analyses", icon: <HistoryOutlined />, label: <Link to="/analyses">{t("nav.history")}</Link> },
    { key: "/tickets", icon: <ProfileOutlined />, label: <Link to="/tickets">{t("nav.tickets")}</Link> },
    { key: "/accuracy", icon: <AimOutlined />, label: <Link to="/accuracy" data-testid="nav-accuracy">{t("nav.accuracy")}</Link> },
    { key: "/datasources", icon: <DatabaseOutlined />, label: <Link to="/datasources">{t("nav.datasources")}</Link> },
    ...(hasRole(me?.role, "admin")
      ? [
          { key: "/users", icon: <TeamOutlined />, label: <Link to="/users">{t("nav.users")}</Link> },
          { key: "/webhooks", icon: <LinkOutlined />, label: <Link to="/webhooks">{t("nav.webhooks")}</Link> },
          { key: "/channels", icon: <BellOutlined />, label: <Link to="/channels">{t("nav.channels")}</Link> },
        ]
      : []),
    {
      key: "docs",
      icon: <ApiOutlined />,
      label: (
        <a href="/docs" target="_blank" rel="noreferrer">
          {t("nav.apiDocs")}
        </a>
      ),
    },
  ];
  const selected = items.map((i) => i.key).filter((k) => location.pathname.startsWith(k));

  const doLogout = () => {
    logout("signed-out");
    qc.clear();
    navigate("/login", { replace: true });
  };

  return (
    <Layout style={{ minHeight: "100vh" }}>
      <Layout.Sider
        breakpoint="lg"
        collapsedWidth={narrow ? 0 : 80}
        collapsed={narrow ? collapsed : false}
        onCollapse={(c) => setCollapsed(c)}
        trigger={null}
        width={208}
        style={narrow ? { position: "fixed", height: "100%", zIndex: 20 } : undefined}
      >
        <div className="app-logo">
          <AlertOutlined style={{ fontSize: 20, color: "#69b1ff" }} />
          <span>{t("app.name")}</span>
        </div>
        <Menu
          theme="dark"
          mode="inline"
          selectedKeys={selected}
          items={items}
          onClick={() => narrow && setCollapsed(true)}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header className="app-header">
          {narrow && (
            <Button
              type="text"
              icon={<MenuOutlined />}
              aria-label="menu"
              onClick={() => setCollapsed(!collapsed)}
              style={{ marginRight: "auto" }}
            />
          )}
          <LangSwitch />
          {me && (
            <Dropdown
              trigger={["click"]}
              menu={{
                items: [
                  { key: "pw", icon: <KeyOutlined />, label: t("user.changePassword"), onClick: () => setPwOpen(true) },
                  { type: "divider" },
                  { key: "out", icon: <LogoutOutlined />, label: t("user.logout"), onClick: doLogout },
                ],
              }}
            >
              <Button type="text" data-testid="user-menu" style={{ display: "flex", alignItems: "center", gap: 8 }}>
                <Avatar size="small" icon={<UserOutlined />} />
                {screens.sm && <span>{me.name || me.email}</span>}
                <Tag color={ROLE_COLOR[me.role]} style={{ marginInlineEnd: 0 }}>
                  {t(`user.role.${me.role}` as MessageKey)}
                </Tag>
              </Button>
            </Dropdown>
          )}
        </Layout.Header>
        <Layout.Content className="app-content">
          {me?.password_is_default && (
            <Alert
              type="warning"
              showIcon
              banner
              message={t("user.defaultPasswordWarning")}
              action={
                <Button size="small" onClick={() => setPwOpen(true)}>
                  {t("user.changePassword")}
                </Button>
              }
              style={{ marginBottom: 16 }}
            />
          )}
          <Outlet />
        </Layout.Content>
      </Layout>
      {pwOpen && (
        <Suspense fallback={null}>
          <PasswordModal open onClose={() => setPwOpen(false)} />
        </Suspense>
      )}
    </Layout>
  );
}
