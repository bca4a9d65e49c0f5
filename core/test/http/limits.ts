/** Small limits, so the tests reach them with small requests (the same on both engines). */
export const LIMITS = { maxHeaderBytes: 1024, maxBodyBytes: 256 } as const;
