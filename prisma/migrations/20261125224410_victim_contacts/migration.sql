-- CreateTable
CREATE TABLE "victim_contact" (
    "id" SERIAL NOT NULL,
    "agency" TEXT NOT NULL,
    "source_ref" TEXT NOT NULL,
    "victim_id" INTEGER NOT NULL,
    "contacted_at" TIMESTAMPTZ(3) NOT NULL,
    "perceived_risk" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "victim_contact_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "victim_contact_victim_id_contacted_at_idx" ON "victim_contact"("victim_id", "contacted_at");

-- CreateIndex
CREATE UNIQUE INDEX "victim_contact_agency_source_ref_key" ON "victim_contact"("agency", "source_ref");

-- AddForeignKey
ALTER TABLE "victim_contact" ADD CONSTRAINT "victim_contact_victim_id_fkey" FOREIGN KEY ("victim_id") REFERENCES "nominal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
