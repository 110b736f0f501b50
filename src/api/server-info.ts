/** Static facts about the simulated deployment that the metadata routes report. */
export interface ServerInfo {
  /** The catalog model simulated (NIM_MODEL_NAME). */
  readonly modelName: string;
  readonly servedModels: readonly string[];
  readonly ownedBy: string;
  readonly maxModelLen: number;
  readonly startedAtS: number;
  /** nimsim's version, reported as the NIM release. */
  readonly release: string;
  /** Extra fields for /v1/metadata: profile, GPU, precision, TP. */
  readonly metadata: Record<string, unknown>;
}

/** The OpenAPI version string that /v1/version reports as `api` (as FastAPI's `openapi` field). */
export const OPENAPI_VERSION = '3.1.0';
