-- AlterTable
ALTER TABLE "member" ADD COLUMN     "teams_chat_id" TEXT;
