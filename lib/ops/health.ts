/** One call of a health endpoint: its HTTP status, or the error that stopped it. */
export async function probeHealth(fetchFn: typeof fetch, url: string): Promise<{ status: number | string; ok: boolean }> {
  try {
    const response = await fetchFn(url, { signal: AbortSignal.timeout(5000), redirect: 'follow' });
    return { status: response.status, ok: response.status === 200 };
  } catch (error) {
    return { status: (error as Error).message, ok: false };
  }
}
