-- AlterTable
ALTER TABLE "LoginThrottle" ADD COLUMN     "lastSuccessAt" TIMESTAMPTZ(3);

