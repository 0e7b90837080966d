package frontend

// PlanOpt is the frontend option through which a client (the plugin) hands
// the frontend the Plans it resolved, as a JSON array of plan.Plan, one per
// target platform. With it the frontend resolves nothing itself: the build
// is exactly the Plan the client keyed, with the client's credentials
// having decided every tag. Without it the frontend resolves through the
// BuildKit gateway.
const PlanOpt = "devcache-plan"

// AllowOpt carries the source policy: a comma-separated list of allowed
// source patterns (see --allow); empty allows everything.
const AllowOpt = "devcache-allow"

// PayloadOptPrefix, followed by a feature's content digest (as in the
// Plan), carries that feature's files as a base64-encoded tar: a client that
// already downloaded a tarball feature passes it so the daemon need not
// fetch it again.
const PayloadOptPrefix = "devcache-payload:"

// OCIStoreOpt names an OCI layout store the client attached to the session
// (client.SolveOpt.OCIStores), for example a `docker devcache warm`
// directory: OCI features are then read from it by digest instead of a
// registry. Base images come from such a store through named contexts
// (context:<image>=oci-layout://<store>@<digest>), as with buildx.
const OCIStoreOpt = "devcache-oci-store"
