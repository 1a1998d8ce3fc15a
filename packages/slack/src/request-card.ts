// The request as Slack shows it is a read model the database adapter produces (a use-case port
// type): the builders here render it, and never see a database row.
export type { PersonRef, RequestCard, ReviewCard } from "@keyturn/usecases";
