/**
 * The command that starts Jaeger with OTLP/HTTP on 4318 and the UI on 16686, as the repo's
 * docker-compose.yml does (`docker compose up -d` there).
 */
export const JAEGER_COMMAND =
  'docker run --rm -d -p 16686:16686 -p 4318:4318 -e JAEGER_LISTEN_HOST=0.0.0.0 jaegertracing/jaeger:2.17.0';

/**
 * True when something answers HTTP at `{endpoint}/v1/traces` within `timeoutMs`: any status
 * counts, a refused or silent connection does not.
 */
export async function probeOtlp({
  endpoint,
  timeoutMs = 300,
}: {
  endpoint: string;
  timeoutMs?: number;
}): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint.replace(/\/+$/, '')}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceSpans":[]}',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
