-- AlterTable
ALTER TABLE "Network" ADD COLUMN     "backboneTlsCryptKeySealed" BYTEA;

