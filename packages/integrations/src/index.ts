export { createPagerDutyOnCall, type PagerDutyOnCallOptions } from "./pagerduty-on-call.js";
