import type { Payload } from "@keyturn/queue";
import type { SignInNotifier } from "@keyturn/usecases";

export function signInNotifyHandler(deps: { notifier: SignInNotifier }) {
  return (payload: Payload<"signin.notify">) => deps.notifier.notifySignIn(payload);
}
