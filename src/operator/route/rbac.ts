/**
 * What the Route controller needs on top of the tenant operator's rules: read Routes, write their
 * status, and write the Secrets and Services it keeps for them. Secrets are already covered by the
 * tenant rules; `routes/finalizers` lets it set `blockOwnerDeletion` on the objects a Route owns
 * where the OwnerReferencesPermissionEnforcement admission plugin is on.
 */
export const routeControllerRules = [
  { apiGroups: ['landlord.dev'], resources: ['routes'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['landlord.dev'], resources: ['routes/status'], verbs: ['get', 'patch'] },
  { apiGroups: ['landlord.dev'], resources: ['routes/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
];
