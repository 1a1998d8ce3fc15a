// Placeholder: replaced by the migrated-template setup.
export async function setup(): Promise<void> {}
