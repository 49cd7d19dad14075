export * from "./backbone-config.ts";
export * from "./client-config.ts";
export * from "./errors.ts";
export * from "./model.ts";
export {
  backboneCommonName,
  backboneDeviceName,
  ccdFileName,
  type LinkRole,
  linkPort,
  networkTag,
  serverDeviceName,
} from "./naming.ts";
export * from "./paths.ts";
export * from "./pem.ts";
export * from "./profile.ts";
export * from "./server-config.ts";
export {
  AEAD_CIPHERS,
  COMMON_NAME_PATTERN,
  SWITCH_ID_PATTERN,
} from "./validate.ts";
