-- CreateTable
CREATE TABLE "trial" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "arms" JSONB NOT NULL,
    "strata" TEXT[],
    "seed" INTEGER NOT NULL,
    "bootstrap_seed" INTEGER NOT NULL,
    "levers" JSONB NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trial_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trial_phase" (
    "id" SERIAL NOT NULL,
    "trial_id" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "starts_on" DATE NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trial_phase_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trial_enrolment" (
    "id" SERIAL NOT NULL,
    "trial_id" INTEGER NOT NULL,
    "phase" INTEGER NOT NULL,
    "as_of" DATE NOT NULL,
    "top" INTEGER NOT NULL,
    "seed" INTEGER NOT NULL,
    "scoring_hash" TEXT NOT NULL,
    "scoring_config" JSONB NOT NULL,
    "eligible" JSONB NOT NULL,
    "allocation_digest" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trial_enrolment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trial_allocation" (
    "id" SERIAL NOT NULL,
    "trial_id" INTEGER NOT NULL,
    "enrolment_id" INTEGER NOT NULL,
    "nominal_id" INTEGER NOT NULL,
    "phase" INTEGER NOT NULL,
    "arm" TEXT NOT NULL,
    "stratum" TEXT NOT NULL,
    "block" INTEGER NOT NULL,
    "block_size" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "enrolled_on" DATE NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "exited_on" DATE,
    "exit_reason" TEXT,
    "exit_note" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trial_allocation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trial_exclusion" (
    "id" SERIAL NOT NULL,
    "trial_id" INTEGER NOT NULL,
    "nominal_id" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "excluded_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trial_exclusion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lever_script" (
    "id" SERIAL NOT NULL,
    "tier" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "lever_script_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lever_delivery" (
    "id" SERIAL NOT NULL,
    "trial_id" INTEGER NOT NULL,
    "nominal_id" INTEGER NOT NULL,
    "incident_id" INTEGER NOT NULL,
    "tier" TEXT NOT NULL,
    "script_version" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "delivered_by" TEXT NOT NULL,
    "delivered_at" TIMESTAMPTZ(3) NOT NULL,
    "rapidity_hours" DOUBLE PRECISION NOT NULL,
    "victim_action_id" INTEGER,
    "idempotency_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "lever_delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "trial_name_key" ON "trial"("name");

-- CreateIndex
CREATE UNIQUE INDEX "trial_phase_trial_id_number_key" ON "trial_phase"("trial_id", "number");

-- CreateIndex
CREATE UNIQUE INDEX "trial_enrolment_trial_id_phase_key" ON "trial_enrolment"("trial_id", "phase");

-- CreateIndex
CREATE UNIQUE INDEX "trial_allocation_nominal_id_key" ON "trial_allocation"("nominal_id");

-- CreateIndex
CREATE INDEX "trial_allocation_trial_id_arm_idx" ON "trial_allocation"("trial_id", "arm");

-- CreateIndex
CREATE UNIQUE INDEX "trial_exclusion_trial_id_nominal_id_key" ON "trial_exclusion"("trial_id", "nominal_id");

-- CreateIndex
CREATE UNIQUE INDEX "lever_script_tier_version_key" ON "lever_script"("tier", "version");

-- CreateIndex
CREATE UNIQUE INDEX "lever_delivery_idempotency_key_key" ON "lever_delivery"("idempotency_key");

-- CreateIndex
CREATE INDEX "lever_delivery_incident_id_idx" ON "lever_delivery"("incident_id");

-- CreateIndex
CREATE INDEX "lever_delivery_trial_id_tier_idx" ON "lever_delivery"("trial_id", "tier");

-- AddForeignKey
ALTER TABLE "trial_phase" ADD CONSTRAINT "trial_phase_trial_id_fkey" FOREIGN KEY ("trial_id") REFERENCES "trial"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial_enrolment" ADD CONSTRAINT "trial_enrolment_trial_id_fkey" FOREIGN KEY ("trial_id") REFERENCES "trial"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial_allocation" ADD CONSTRAINT "trial_allocation_trial_id_fkey" FOREIGN KEY ("trial_id") REFERENCES "trial"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial_allocation" ADD CONSTRAINT "trial_allocation_enrolment_id_fkey" FOREIGN KEY ("enrolment_id") REFERENCES "trial_enrolment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial_allocation" ADD CONSTRAINT "trial_allocation_nominal_id_fkey" FOREIGN KEY ("nominal_id") REFERENCES "nominal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial_exclusion" ADD CONSTRAINT "trial_exclusion_trial_id_fkey" FOREIGN KEY ("trial_id") REFERENCES "trial"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial_exclusion" ADD CONSTRAINT "trial_exclusion_nominal_id_fkey" FOREIGN KEY ("nominal_id") REFERENCES "nominal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lever_delivery" ADD CONSTRAINT "lever_delivery_trial_id_fkey" FOREIGN KEY ("trial_id") REFERENCES "trial"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lever_delivery" ADD CONSTRAINT "lever_delivery_nominal_id_fkey" FOREIGN KEY ("nominal_id") REFERENCES "nominal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lever_delivery" ADD CONSTRAINT "lever_delivery_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
