import type { Payload } from "@keyturn/queue";
import type { Notifier } from "@keyturn/usecases";

export function requestNotifyHandler(deps: { notifier: Notifier }) {
  return (payload: Payload<"request.notify">) => deps.notifier.notify(payload);
}
