/** One call of a health endpoint, given up after `timeoutMs`: its HTTP status, or the error that stopped it. */
export async function probeHealth(
  fetchFn: typeof fetch,
  url: string,
  timeoutMs = 5000,
): Promise<{ status: number | string; ok: boolean }> {
  try {
    const response = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    return { status: response.status, ok: response.status === 200 };
  } catch (error) {
    return { status: (error as Error).message, ok: false };
  }
}
