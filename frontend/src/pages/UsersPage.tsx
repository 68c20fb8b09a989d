import { useState } from "react";
import { App, Button, Form, Input, Modal, Select, Switch, Table, Tag } from "antd";
import { EditOutlined, PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import type { Role, User, UserPatch } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { useMe } from "../lib/queries";
import { formatDateTime } from "../lib/format";
import { ErrorBox, PageHead } from "../components/common";

const ROLES: Role[] = ["viewer", "engineer", "admin"];
const ROLE_COLOR: Record<Role, string> = { admin: "red", engineer: "blue", viewer: "default" };

interface Values {
  email: string;
  name?: string;
  role: Role;
  password?: string;
  disabled?: boolean;
}

export default function UsersPage() {
  const t = useT();
  const me = useMe().data;
  const list = useQuery({ queryKey: ["users"], queryFn: () => api.users() });
  const [editing, setEditing] = useState<User | "new" | null>(null);

  return (
    <>
      <PageHead
        title={t("users.title")}
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")} data-testid="user-add">
            {t("users.add")}
          </Button>
        }
      />
      {list.isError && <ErrorBox error={list.error} onRetry={() => void list.refetch()} />}
      <Table<User>
        rowKey="id"
        loading={list.isPending}
        dataSource={list.data?.items ?? []}
        pagination={false}
        scroll={{ x: 760 }}
        columns={[
          { title: t("users.email"), dataIndex: "email" },
          { title: t("users.name"), dataIndex: "name" },
          {
            title: t("users.role"),
            dataIndex: "role",
            width: 110,
            render: (r: Role) => <Tag color={ROLE_COLOR[r]}>{t(`user.role.${r}` as MessageKey)}</Tag>,
          },
          {
            title: t("common.status"),
            key: "state",
            width: 180,
            render: (_, u) => (
              <>
                {u.disabled ? <Tag color="default">{t("users.disabled")}</Tag> : <Tag color="success">{t("users.enabled")}</Tag>}
                {u.password_is_default && <Tag color="warning">{t("users.defaultPassword")}</Tag>}
              </>
            ),
          },
          { title: t("common.createdAt"), dataIndex: "created_at", width: 170, responsive: ["lg"], render: formatDateTime },
          {
            title: t("common.actions"),
            key: "a",
            width: 80,
            render: (_, u) => <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(u)} aria-label={t("common.edit")} />,
          },
        ]}
      />
      {editing && <UserModal user={editing === "new" ? undefined : editing} self={editing !== "new" && editing.id === me?.id} onClose={() => setEditing(null)} />}
    </>
  );
}

function UserModal({ user, self, onClose }: { user?: User; self: boolean; onClose: () => void }) {
  const t = useT();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<Values>();
  const m = useMutation({
    mutationFn: (v: Values) => {
      if (!user) return api.createUser({ email: v.email.trim(), name: v.name?.trim() || undefined, password: v.password ?? "", role: v.role });
      const p: UserPatch = {};
      if ((v.name ?? "") !== user.name) p.name = v.name ?? "";
      if (v.role !== user.role) p.role = v.role;
      if (!!v.disabled !== user.disabled) p.disabled = !!v.disabled;
      if (v.password) p.password = v.password;
      return api.updateUser(user.id, p);
    },
    onSuccess: () => {
      void message.success(user ? t("common.saved") : t("users.created"));
      void qc.invalidateQueries({ queryKey: ["users"] });
      onClose();
    },
  });
  return (
    <Modal
      open
      title={user ? t("users.edit") : t("users.add")}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={m.isPending}
      okText={user ? t("common.save") : t("common.create")}
      cancelText={t("common.cancel")}
      destroyOnHidden
    >
      {m.isError && <ErrorBox error={m.error} />}
      <Form<Values>
        form={form}
        layout="vertical"
        initialValues={user ? { email: user.email, name: user.name, role: user.role, disabled: user.disabled } : { role: "engineer" }}
        onFinish={(v) => m.mutate(v)}
      >
        <Form.Item name="email" label={t("users.email")} rules={[{ required: true, type: "email" }]}>
          <Input disabled={!!user} autoComplete="off" />
        </Form.Item>
        <Form.Item name="name" label={t("users.name")}>
          <Input />
        </Form.Item>
        <Form.Item name="role" label={t("users.role")} rules={[{ required: true }]}>
          <Select disabled={self} options={ROLES.map((r) => ({ value: r, label: t(`user.role.${r}` as MessageKey) }))} />
        </Form.Item>
        <Form.Item
          name="password"
          label={user ? t("users.resetPassword") : t("users.password")}
          rules={[{ required: !user, min: 8, message: t("user.passwordTooShort") }]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        {user && (
          <Form.Item name="disabled" label={t("users.disabled")} valuePropName="checked">
            <Switch disabled={self} />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}
