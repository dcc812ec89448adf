-- AlterTable
ALTER TABLE "trial_enrolment" ADD COLUMN     "scored" INTEGER NOT NULL DEFAULT 0;
