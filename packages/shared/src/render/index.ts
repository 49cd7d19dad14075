export * from "./backbone-config.ts";
// The model-level and per-field rules, for the API to check input with the renderers' own rules.
export {
  backboneListenPort,
  type CheckedHost,
  type CheckedNetwork,
  type CheckedSwitch,
  checkHost,
  checkNetwork,
  checkSwitch,
  checkSwitchSet,
} from "./checks.ts";
export * from "./client-config.ts";
export * from "./config-check.ts";
export {
  BACKBONE_RULES,
  OPENVPN_GROUP,
  OPENVPN_USER,
  REQUIRED_DIRECTIVES,
  type RuleContext,
  SERVER_RULES,
} from "./directive-rules.ts";
export * from "./errors.ts";
export * from "./model.ts";
export {
  backboneCommonName,
  backboneDeviceName,
  ccdFileName,
  type LinkRole,
  linkPort,
  networkTag,
  SERVER_NAME_PREFIX,
  serverCommonName,
  serverDeviceName,
} from "./naming.ts";
export * from "./paths.ts";
export * from "./pem.ts";
export * from "./profile.ts";
export * from "./server-config.ts";
export * as fieldRules from "./validate.ts";
export {
  AEAD_CIPHERS,
  COMMON_NAME_PATTERN,
  SWITCH_ID_PATTERN,
} from "./validate.ts";
