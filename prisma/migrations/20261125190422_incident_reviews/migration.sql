-- CreateTable
CREATE TABLE "incident_review" (
    "id" SERIAL NOT NULL,
    "incident_id" INTEGER NOT NULL,
    "meeting_key" TEXT NOT NULL,
    "meeting_date" DATE NOT NULL,
    "outcome" TEXT NOT NULL,
    "reviewed_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incident_review_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "incident_review_incident_id_idx" ON "incident_review"("incident_id");

-- AddForeignKey
ALTER TABLE "incident_review" ADD CONSTRAINT "incident_review_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
