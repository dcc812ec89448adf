-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "RiskTool" AS ENUM ('dash', 'dara', 'other');

-- CreateEnum
CREATE TYPE "RiskLevel" AS ENUM ('standard', 'medium', 'high');

-- CreateEnum
CREATE TYPE "FlagKind" AS ENUM ('cohort', 'iom', 'matac', 'marac', 'bail', 'order', 'chair');

-- CreateEnum
CREATE TYPE "MemberRole" AS ENUM ('member', 'chair');

-- CreateEnum
CREATE TYPE "ActionStatus" AS ENUM ('open', 'done', 'cancelled');

-- CreateEnum
CREATE TYPE "PanelKind" AS ENUM ('monthly_review', 'marac', 'local_panel');

-- CreateEnum
CREATE TYPE "OutboxStatus" AS ENUM ('pending', 'claimed', 'sent', 'failed');

-- CreateTable
CREATE TABLE "nominal" (
    "id" SERIAL NOT NULL,
    "ref" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "nominal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incident" (
    "id" SERIAL NOT NULL,
    "source_system" TEXT NOT NULL,
    "source_ref" TEXT NOT NULL,
    "reported_at" TIMESTAMPTZ(3) NOT NULL,
    "occurred_at" TIMESTAMPTZ(3),
    "risk_tool" "RiskTool",
    "risk_level" "RiskLevel" NOT NULL,
    "prof_judgement" BOOLEAN NOT NULL DEFAULT false,
    "category" TEXT NOT NULL,
    "crime" BOOLEAN NOT NULL DEFAULT false,
    "area" TEXT NOT NULL,
    "children_present" BOOLEAN NOT NULL,
    "perpetrator_id" INTEGER NOT NULL,
    "victim_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incident_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "flag" (
    "id" SERIAL NOT NULL,
    "perpetrator_id" INTEGER NOT NULL,
    "kind" "FlagKind" NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "starts_on" DATE NOT NULL,
    "ends_on" DATE,
    "set_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "flag_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "member" (
    "id" SERIAL NOT NULL,
    "slack_user_id" TEXT,
    "teams_user_id" TEXT,
    "display_name" TEXT NOT NULL DEFAULT '',
    "agency" TEXT NOT NULL,
    "role" "MemberRole" NOT NULL DEFAULT 'member',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "member_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "action" (
    "id" SERIAL NOT NULL,
    "meeting_key" TEXT NOT NULL,
    "incident_id" INTEGER,
    "nominal_id" INTEGER,
    "text" TEXT NOT NULL,
    "owner_id" INTEGER NOT NULL,
    "agency" TEXT NOT NULL,
    "due_on" DATE NOT NULL,
    "status" "ActionStatus" NOT NULL DEFAULT 'open',
    "created_by" TEXT NOT NULL,
    "closed_note" TEXT,
    "closed_at" TIMESTAMPTZ(3),
    "snoozed_until" DATE,
    "idempotency_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "action_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "action_update" (
    "id" SERIAL NOT NULL,
    "action_id" INTEGER NOT NULL,
    "author" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "action_update_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "panel" (
    "id" SERIAL NOT NULL,
    "meeting_key" TEXT NOT NULL,
    "kind" "PanelKind" NOT NULL,
    "title" TEXT NOT NULL DEFAULT '',
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "recurrence" TEXT,
    "cancelled_at" TIMESTAMPTZ(3),
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "panel_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agenda_run" (
    "id" SERIAL NOT NULL,
    "meeting_key" TEXT NOT NULL,
    "meeting_date" DATE NOT NULL,
    "status" "OutboxStatus" NOT NULL DEFAULT 'pending',
    "claimed_by" TEXT,
    "claimed_at" TIMESTAMPTZ(3),
    "posted_at" TIMESTAMPTZ(3),
    "late" BOOLEAN NOT NULL DEFAULT false,
    "message_ref" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agenda_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_message" (
    "id" SERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "meeting_key" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "OutboxStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "not_before" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_by" TEXT,
    "claimed_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),
    "message_ref" TEXT,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" SERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "subject" TEXT NOT NULL DEFAULT '',
    "channel" TEXT NOT NULL DEFAULT '',
    "reason" TEXT NOT NULL DEFAULT '',
    "details" JSONB NOT NULL DEFAULT '{}',
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "store_setting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "store_setting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "nominal_ref_key" ON "nominal"("ref");

-- CreateIndex
CREATE UNIQUE INDEX "nominal_label_key" ON "nominal"("label");

-- CreateIndex
CREATE INDEX "incident_reported_at_idx" ON "incident"("reported_at");

-- CreateIndex
CREATE INDEX "incident_perpetrator_id_reported_at_idx" ON "incident"("perpetrator_id", "reported_at");

-- CreateIndex
CREATE INDEX "incident_victim_id_reported_at_idx" ON "incident"("victim_id", "reported_at");

-- CreateIndex
CREATE UNIQUE INDEX "incident_source_system_source_ref_key" ON "incident"("source_system", "source_ref");

-- CreateIndex
CREATE INDEX "flag_kind_starts_on_idx" ON "flag"("kind", "starts_on");

-- CreateIndex
CREATE UNIQUE INDEX "flag_perpetrator_id_kind_starts_on_key" ON "flag"("perpetrator_id", "kind", "starts_on");

-- CreateIndex
CREATE UNIQUE INDEX "member_slack_user_id_key" ON "member"("slack_user_id");

-- CreateIndex
CREATE UNIQUE INDEX "member_teams_user_id_key" ON "member"("teams_user_id");

-- CreateIndex
CREATE UNIQUE INDEX "action_idempotency_key_key" ON "action"("idempotency_key");

-- CreateIndex
CREATE INDEX "action_status_due_on_idx" ON "action"("status", "due_on");

-- CreateIndex
CREATE INDEX "action_owner_id_status_idx" ON "action"("owner_id", "status");

-- CreateIndex
CREATE INDEX "action_update_action_id_idx" ON "action_update"("action_id");

-- CreateIndex
CREATE INDEX "panel_starts_at_idx" ON "panel"("starts_at");

-- CreateIndex
CREATE UNIQUE INDEX "agenda_run_meeting_key_meeting_date_key" ON "agenda_run"("meeting_key", "meeting_date");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_message_key_key" ON "outbox_message"("key");

-- CreateIndex
CREATE INDEX "outbox_message_status_not_before_idx" ON "outbox_message"("status", "not_before");

-- CreateIndex
CREATE UNIQUE INDEX "audit_event_hash_key" ON "audit_event"("hash");

-- CreateIndex
CREATE INDEX "audit_event_at_idx" ON "audit_event"("at");

-- AddForeignKey
ALTER TABLE "incident" ADD CONSTRAINT "incident_perpetrator_id_fkey" FOREIGN KEY ("perpetrator_id") REFERENCES "nominal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident" ADD CONSTRAINT "incident_victim_id_fkey" FOREIGN KEY ("victim_id") REFERENCES "nominal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "flag" ADD CONSTRAINT "flag_perpetrator_id_fkey" FOREIGN KEY ("perpetrator_id") REFERENCES "nominal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "action" ADD CONSTRAINT "action_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "action" ADD CONSTRAINT "action_nominal_id_fkey" FOREIGN KEY ("nominal_id") REFERENCES "nominal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "action" ADD CONSTRAINT "action_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "member"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "action_update" ADD CONSTRAINT "action_update_action_id_fkey" FOREIGN KEY ("action_id") REFERENCES "action"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
