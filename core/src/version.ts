/** The host API version plugins declare compatibility with (`apiVersion: "^1"`). */
export const HOST_API_VERSION = '1.0.0';
/** The wrtkit release. */
export const WRTKIT_VERSION = '0.1.0';
