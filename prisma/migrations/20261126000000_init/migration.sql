-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Proto" AS ENUM ('udp', 'tcp');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('admin', 'operator', 'viewer', 'auditor');

-- CreateEnum
CREATE TYPE "CertificateKind" AS ENUM ('ca', 'server', 'client', 'backbone');

-- CreateTable
CREATE TABLE "Network" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "dataSubnet" TEXT NOT NULL,
    "backboneSubnet" TEXT NOT NULL,
    "proto" "Proto" NOT NULL DEFAULT 'udp',
    "port" INTEGER NOT NULL DEFAULT 1194,
    "keepaliveInterval" INTEGER NOT NULL DEFAULT 2,
    "keepaliveTimeout" INTEGER NOT NULL DEFAULT 10,
    "dataCiphers" TEXT[] DEFAULT ARRAY['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305']::TEXT[],
    "pushRoutes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "dnsServers" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "dnsDomain" TEXT,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Network_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Switch" (
    "id" UUID NOT NULL,
    "networkId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "endpointHost" TEXT NOT NULL,
    "endpointPort" INTEGER NOT NULL,
    "dataAddress" INET NOT NULL,
    "poolStart" INET NOT NULL,
    "poolEnd" INET NOT NULL,
    "backboneAddress" INET NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Switch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Host" (
    "id" UUID NOT NULL,
    "networkId" UUID NOT NULL,
    "commonName" TEXT NOT NULL,
    "address" INET NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "subnets" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "pushRoutes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Host_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Certificate" (
    "id" UUID NOT NULL,
    "networkId" UUID NOT NULL,
    "kind" "CertificateKind" NOT NULL,
    "serial" TEXT NOT NULL,
    "commonName" TEXT NOT NULL,
    "pem" TEXT NOT NULL,
    "keySealed" BYTEA,
    "notBefore" TIMESTAMPTZ(3) NOT NULL,
    "notAfter" TIMESTAMPTZ(3) NOT NULL,
    "revokedAt" TIMESTAMPTZ(3),
    "revocationReason" TEXT,
    "hostId" UUID,
    "switchId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Certificate_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Session" (
    "id" UUID NOT NULL,
    "hostId" UUID NOT NULL,
    "switchId" UUID NOT NULL,
    "realAddress" TEXT NOT NULL,
    "connectedAt" TIMESTAMPTZ(3) NOT NULL,
    "disconnectedAt" TIMESTAMPTZ(3),
    "bytesIn" BIGINT NOT NULL DEFAULT 0,
    "bytesOut" BIGINT NOT NULL DEFAULT 0,
    "clientId" INTEGER,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disabledAt" TIMESTAMPTZ(3),

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LoginSession" (
    "id" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "LoginSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "userId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT,
    "actorName" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "targetType" TEXT NOT NULL,
    "targetId" TEXT,
    "summary" JSONB NOT NULL DEFAULT '{}',
    "requestId" TEXT,
    "sourceAddress" TEXT,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Network_name_key" ON "Network"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Switch_networkId_name_key" ON "Switch"("networkId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Switch_networkId_dataAddress_key" ON "Switch"("networkId", "dataAddress");

-- CreateIndex
CREATE UNIQUE INDEX "Switch_networkId_backboneAddress_key" ON "Switch"("networkId", "backboneAddress");

-- CreateIndex
CREATE INDEX "Host_networkId_createdAt_idx" ON "Host"("networkId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Host_networkId_commonName_key" ON "Host"("networkId", "commonName");

-- CreateIndex
CREATE UNIQUE INDEX "Host_networkId_address_key" ON "Host"("networkId", "address");

-- CreateIndex
CREATE INDEX "Certificate_networkId_notAfter_idx" ON "Certificate"("networkId", "notAfter");

-- CreateIndex
CREATE UNIQUE INDEX "Certificate_networkId_serial_key" ON "Certificate"("networkId", "serial");

-- CreateIndex
CREATE INDEX "Session_hostId_disconnectedAt_idx" ON "Session"("hostId", "disconnectedAt");

-- CreateIndex
CREATE INDEX "Session_switchId_disconnectedAt_idx" ON "Session"("switchId", "disconnectedAt");

-- CreateIndex
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");

-- CreateIndex
CREATE UNIQUE INDEX "LoginSession_tokenHash_key" ON "LoginSession"("tokenHash");

-- CreateIndex
CREATE INDEX "LoginSession_userId_idx" ON "LoginSession"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE INDEX "AuditEvent_targetType_targetId_idx" ON "AuditEvent"("targetType", "targetId");

-- AddForeignKey
ALTER TABLE "Switch" ADD CONSTRAINT "Switch_networkId_fkey" FOREIGN KEY ("networkId") REFERENCES "Network"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Host" ADD CONSTRAINT "Host_networkId_fkey" FOREIGN KEY ("networkId") REFERENCES "Network"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Certificate" ADD CONSTRAINT "Certificate_networkId_fkey" FOREIGN KEY ("networkId") REFERENCES "Network"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Certificate" ADD CONSTRAINT "Certificate_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Certificate" ADD CONSTRAINT "Certificate_switchId_fkey" FOREIGN KEY ("switchId") REFERENCES "Switch"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_switchId_fkey" FOREIGN KEY ("switchId") REFERENCES "Switch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LoginSession" ADD CONSTRAINT "LoginSession_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

