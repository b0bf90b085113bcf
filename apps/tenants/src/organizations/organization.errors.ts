import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons an organization request fails; clients may rely on them (`reason` in the problem). */
export enum OrganizationErrorReason {
  NotFound = 'ORGANIZATION_NOT_FOUND',
  ParentNotFound = 'ORGANIZATION_PARENT_NOT_FOUND',
  SlugTaken = 'ORGANIZATION_SLUG_TAKEN',
  TooDeep = 'ORGANIZATION_TOO_DEEP',
  MoveCycle = 'ORGANIZATION_MOVE_CYCLE',
  HasChildren = 'ORGANIZATION_HAS_CHILDREN',
  FeatureUnavailable = 'ORGANIZATION_FEATURE_UNAVAILABLE',
}

export const OrganizationErrors = {
  notFound: (id: string, field?: string) =>
    new AppError(ErrorCode.NotFound, `organization ${id} does not exist in this tenant`, {
      reason: OrganizationErrorReason.NotFound,
      ...(field ? { field } : {}),
    }),

  parentNotFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `parent organization ${id} does not exist in this tenant`, {
      reason: OrganizationErrorReason.ParentNotFound,
      field: 'parentId',
    }),

  slugTaken: (slug: string, parent: string | null) =>
    new AppError(
      ErrorCode.Conflict,
      `${parent ? `organization ${parent}` : 'the tenant'} already has ${parent ? 'a child' : 'a top-level organization'} with the slug "${slug}"; choose another`,
      { reason: OrganizationErrorReason.SlugTaken, field: 'slug' },
    ),

  tooDeep: (deepest: number, max: number, field: string) =>
    new AppError(
      ErrorCode.Conflict,
      `organizations are at most ${max} levels deep; this would put one at level ${deepest}`,
      { reason: OrganizationErrorReason.TooDeep, field },
    ),

  moveCycle: (id: string, parentId: string) =>
    new AppError(
      ErrorCode.Conflict,
      parentId === id
        ? `organization ${id} cannot be its own parent`
        : `organization ${id} cannot move under ${parentId}: ${parentId} is inside its subtree, which would make a cycle`,
      { reason: OrganizationErrorReason.MoveCycle, field: 'parentId' },
    ),

  hasChildren: (id: string, children: number) =>
    new AppError(
      ErrorCode.Conflict,
      `organization ${id} has ${children} child organization(s): delete or move them first`,
      { reason: OrganizationErrorReason.HasChildren },
    ),

  featureUnavailable: (slug: string, plan: string) =>
    new AppError(
      ErrorCode.Forbidden,
      `the plan ${plan} of tenant ${slug} does not include organizations (feature organizations); change the plan first`,
      { reason: OrganizationErrorReason.FeatureUnavailable },
    ),
};
