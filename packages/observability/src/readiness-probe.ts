// A readiness probe must answer quickly even when a dependency hangs rather than refuses.
const PROBE_TIMEOUT_MS = 2_000;

/** True when `probe` settles successfully within the bound; false when it rejects or hangs. */
export async function answersWithin(
  probe: () => Promise<unknown>,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const answered = probe().then(
      () => true,
      () => false,
    );
    return await Promise.race([answered, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
