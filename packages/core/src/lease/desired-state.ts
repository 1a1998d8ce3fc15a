export type AssignmentOrigin = "keyturn" | "preexisting";

export type LeaseView = {
  requestId: string;
  startsAt: Date;
  endsAt: Date;
  releasedAt: Date | null;
};

export type DesiredState = {
  present: boolean;
  /** When the assignment stops being desired if nothing changes; null = never (preexisting) or not present. */
  until: Date | null;
  /** Requests whose leases hold the assignment now. */
  holders: string[];
};

export function isLive(lease: LeaseView, now: Date): boolean {
  return lease.releasedAt === null && lease.startsAt <= now && lease.endsAt > now;
}

/**
 * An assignment is desired present iff it was there before Keyturn (never ours to remove) or an
 * unreleased lease still runs. Overlapping and extended requests therefore never cut each other's
 * access: only the last lease to end takes it away.
 */
export function desiredState(
  origin: AssignmentOrigin,
  leases: readonly LeaseView[],
  now: Date,
): DesiredState {
  const live = leases.filter((lease) => isLive(lease, now));
  const holders = live.map((lease) => lease.requestId);
  if (origin === "preexisting") {
    return { present: true, until: null, holders };
  }
  if (live.length === 0) {
    return { present: false, until: null, holders };
  }
  const until = new Date(Math.max(...live.map((lease) => lease.endsAt.getTime())));
  return { present: true, until, holders };
}

/** The next instant at which the desired state may flip: the earliest end among live leases. */
export function nextChangeAt(leases: readonly LeaseView[], now: Date): Date | null {
  const ends = leases.filter((lease) => isLive(lease, now)).map((lease) => lease.endsAt.getTime());
  return ends.length === 0 ? null : new Date(Math.min(...ends));
}
