#!/usr/bin/env bash
# snapshot-from-aws-cli.sh: build a pullmedic.snapshot/v1 file for one stopped
# ECS task with nothing but the AWS CLI (v1 or v2) and jq. See docs/snapshots.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage:
  snapshot-from-aws-cli.sh --event EVENT.json [--region REGION] [--out FILE]
  snapshot-from-aws-cli.sh --cluster CLUSTER --task TASK_ARN --region REGION [--out FILE]

Reads, with the AWS CLI and your usual credentials (AWS_PROFILE, environment,
SSO), the part of the account one stopped task touches, and writes it as a
pullmedic.snapshot/v1 file (stdout unless --out). Then, anywhere:

  pullmedic diagnose --event EVENT.json --snapshot FILE

  --event FILE     the EventBridge "ECS Task State Change" event of the task
                   (cluster, task, region, subnet and images come from it;
                   needed once the stopped task has aged out, about an hour)
  --cluster NAME   the task's cluster (name or ARN), with --task
  --task ARN       the task's ARN (or ID)
  --region REGION  the task's region (default: the event's)
  --out FILE       where to write the snapshot (default: stdout)
  -h, --help       this help

Every read the diagnosis needs is one `aws ... describe-*` call. A resource
that does not exist is left out, as pullmedic collect does; any other failure
(access denied, throttling, no network) stops the script with the command
and its error, because a snapshot without it would read as "none exist".
Needs: aws (v1 or v2), jq. Environment: AWS_ENDPOINT_URL is honoured.
EOF
}

die() { echo "snapshot-from-aws-cli: $*" >&2; exit 1; }

event="" cluster="" task="" region="" out=""
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --event|--cluster|--task|--region|--out)
      [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"
      case $1 in
        --event) event=$2 ;; --cluster) cluster=$2 ;; --task) task=$2 ;;
        --region) region=$2 ;; --out) out=$2 ;;
      esac
      shift 2 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

for tool in aws jq; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (Debian/Ubuntu: apt-get install awscli jq)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export AWS_PAGER="" # CLI v2 would page long output

if [ -n "$event" ]; then
  [ -r "$event" ] || die "cannot read event file $event"
  jq -e '.detail.taskArn and .detail.clusterArn' "$event" >/dev/null 2>&1 ||
    die "$event is not an ECS Task State Change event (no detail.taskArn and detail.clusterArn)"
  cluster=${cluster:-$(jq -r '.detail.clusterArn' "$event")}
  task=${task:-$(jq -r '.detail.taskArn' "$event")}
  region=${region:-$(jq -r '.region // empty' "$event")}
  cp "$event" "$tmp/event.json"
else
  echo '{"detail":{}}' >"$tmp/event.json"
fi
[ -n "$cluster" ] && [ -n "$task" ] || die "name the task: --event FILE, or --cluster and --task (see --help)"
[ -n "$region" ] || die "no region: pass --region"
account=$(aws sts get-caller-identity --query Account --output text --region "$region") ||
  die "aws sts get-caller-identity failed: check your credentials"

# call NAME ALLOWED_ERRORS aws ARGS...: runs one read, its output in $tmp/NAME.json.
# An error whose code is in ALLOWED_ERRORS (a|b) means "does not exist": the
# file then holds null. Any other failure stops the script.
call() {
  local name=$1 allowed=$2
  shift 2
  if "$@" --output json >"$tmp/$name.json" 2>"$tmp/$name.err"; then
    [ -s "$tmp/$name.json" ] || echo null >"$tmp/$name.json"
    return 0
  fi
  if [ -n "$allowed" ] && grep -Eq "\(($allowed)\)" "$tmp/$name.err"; then
    echo null >"$tmp/$name.json"
    return 0
  fi
  die "\`$*\` failed: $(cat "$tmp/$name.err")"
}
r=(--region "$region")

# part NAME: what read NAME printed, or null when it was not made.
part() { if [ -f "$tmp/$1.json" ]; then cat "$tmp/$1.json"; else echo null; fi; }
# each NAME: what every read NAME1, NAME2, ... printed, in turn.
each() { local f; for f in "$tmp/$1"[0-9]*.json; do [ ! -f "$f" ] || cat "$f"; done; }

# --- ECS: the task (gone after about an hour: the event stands in), its definition, cluster, service.
call tasks "" aws ecs describe-tasks "${r[@]}" --cluster "$cluster" --tasks "$task" --include TAGS
td=$(jq -r --slurpfile ev "$tmp/event.json" '.tasks[0].taskDefinitionArn // $ev[0].detail.taskDefinitionArn // empty' "$tmp/tasks.json")
[ -n "$td" ] || die "task $task is gone and no event says its task definition: pass --event"
call taskdef "" aws ecs describe-task-definition "${r[@]}" --task-definition "$td" --include TAGS
call clusters "" aws ecs describe-clusters "${r[@]}" --clusters "$cluster" --include TAGS
group=$(jq -r --slurpfile ev "$tmp/event.json" '.tasks[0].group // $ev[0].detail.group // ""' "$tmp/tasks.json")
if [[ $group == service:* ]]; then
  call services "" aws ecs describe-services "${r[@]}" --cluster "$cluster" --services "${group#service:}" --include TAGS
fi

# --- EC2: the task's subnet and everything in its VPC that the pull's path can cross.
attachment() { # the task ENI's detail NAME, from the task or the event
  jq -r --arg n "$1" --slurpfile ev "$tmp/event.json" \
    '[(.tasks[0].attachments // $ev[0].detail.attachments // [])[] | select(.type == "ElasticNetworkInterface" or .type == "eni") | .details[] | select(.name == $n) | .value][0] // empty' \
    "$tmp/tasks.json"
}
subnet=$(attachment subnetId)
eni=$(attachment networkInterfaceId)
if [ -n "$subnet" ]; then
  call subnet "" aws ec2 describe-subnets "${r[@]}" --subnet-ids "$subnet"
  vpc=$(jq -r '.Subnets[0].VpcId // empty' "$tmp/subnet.json")
  [ -n "$vpc" ] || die "subnet $subnet of the task does not exist"
  f=(--filters "Name=vpc-id,Values=$vpc")
  call vpcs "" aws ec2 describe-vpcs "${r[@]}" --vpc-ids "$vpc"
  # One attribute per call: the outputs go into the snapshot as printed.
  call dnssupport "" aws ec2 describe-vpc-attribute "${r[@]}" --vpc-id "$vpc" --attribute enableDnsSupport
  call dnshostnames "" aws ec2 describe-vpc-attribute "${r[@]}" --vpc-id "$vpc" --attribute enableDnsHostnames
  call subnets "" aws ec2 describe-subnets "${r[@]}" "${f[@]}"
  call routetables "" aws ec2 describe-route-tables "${r[@]}" "${f[@]}"
  call igws "" aws ec2 describe-internet-gateways "${r[@]}" --filters "Name=attachment.vpc-id,Values=$vpc"
  call nats "" aws ec2 describe-nat-gateways "${r[@]}" --filter "Name=vpc-id,Values=$vpc"
  call endpoints "" aws ec2 describe-vpc-endpoints "${r[@]}" "${f[@]}"
  call sgs "" aws ec2 describe-security-groups "${r[@]}" "${f[@]}"
  call nacls "" aws ec2 describe-network-acls "${r[@]}" "${f[@]}"
  call prefixlists "" aws ec2 describe-prefix-lists "${r[@]}"
  dhcp=$(jq -r '.Vpcs[0].DhcpOptionsId // "default"' "$tmp/vpcs.json")
  if [ "$dhcp" != default ]; then
    call dhcp "" aws ec2 describe-dhcp-options "${r[@]}" --dhcp-options-ids "$dhcp"
  fi
  if [ -n "$eni" ]; then # a filter, not an ID: a deleted ENI is no error
    call enis "" aws ec2 describe-network-interfaces "${r[@]}" --filters "Name=network-interface-id,Values=$eni"
  fi
fi

# --- IAM: the roles and the account's own policies. AWS managed policies are
# left out (--filter): pullmedic knows AmazonECSTaskExecutionRolePolicy, and
# any other one the roles use is read below, alone.
call iam "" aws iam get-account-authorization-details "${r[@]}" --filter Role LocalManagedPolicy
roles=$(jq -c '[.taskDefinition.executionRoleArn, .taskDefinition.taskRoleArn] | map(select(. != null) | split("/") | last)' "$tmp/taskdef.json")
jq --argjson roles "$roles" '
  (.RoleDetailList // [] | map(select(.RoleName as $n | $roles | index($n)))) as $r
  | ([$r[] | (.AttachedManagedPolicies // [])[].PolicyArn, (.PermissionsBoundary.PermissionsBoundaryArn // empty)] | unique) as $used
  | {RoleDetailList: $r, Policies: [(.Policies // [])[] | select(.Arn as $a | $used | index($a))], used: $used}' \
  "$tmp/iam.json" >"$tmp/iam-task.json"
n=0
for arn in $(jq -r '.used[] | select(startswith("arn:aws:iam::aws:policy/") or startswith("arn:aws-cn:iam::aws:policy/") or startswith("arn:aws-us-gov:iam::aws:policy/"))' "$tmp/iam-task.json"); do
  [[ $arn == */AmazonECSTaskExecutionRolePolicy ]] && continue
  n=$((n + 1))
  call "policy$n" "" aws iam get-policy "${r[@]}" --policy-arn "$arn"
  version=$(jq -r '.Policy.DefaultVersionId' "$tmp/policy$n.json")
  call "version$n" "" aws iam get-policy-version "${r[@]}" --policy-arn "$arn" --version-id "$version"
  jq -s '.[0].Policy + {PolicyVersionList: [.[1].PolicyVersion]}' "$tmp/policy$n.json" "$tmp/version$n.json" >"$tmp/managed$n.json"
done

# --- ECR: each private ECR image, read in its own registry (account and region).
images=$(jq -r --slurpfile ev "$tmp/event.json" \
  '[.taskDefinition.containerDefinitions[].image, ($ev[0].detail.containers // [])[].image] | unique[]' "$tmp/taskdef.json")
ecr_re='^([0-9]{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([^:@]+)(:([^@]+))?(@(.+))?$'
n=0
for image in $images; do
  [[ $image =~ $ecr_re ]] || continue
  n=$((n + 1))
  acct=${BASH_REMATCH[1]} reg=${BASH_REMATCH[3]} repo=${BASH_REMATCH[5]} tag=${BASH_REMATCH[7]:-latest} digest=${BASH_REMATCH[9]}
  id="imageTag=$tag"
  [ -z "$digest" ] || id="imageDigest=$digest"
  er=(--region "$reg" --registry-id "$acct")
  call "repo$n" RepositoryNotFoundException aws ecr describe-repositories "${er[@]}" --repository-names "$repo"
  call "images$n" "RepositoryNotFoundException|ImageNotFoundException" aws ecr describe-images "${er[@]}" --repository-name "$repo" --image-ids "$id"
  call "repopolicy$n" "RepositoryNotFoundException|RepositoryPolicyNotFoundException" aws ecr get-repository-policy "${er[@]}" --repository-name "$repo"
  index=$(jq -r '[(. // {}).imageDetails[]? | select(.imageManifestMediaType | test("manifest.list|image.index")) | .imageDigest][0] // empty' "$tmp/images$n.json")
  if [ -n "$index" ]; then # a multi-platform image: its index lists the platforms
    call "manifests$n" "RepositoryNotFoundException|ImageNotFoundException" aws ecr batch-get-image "${er[@]}" --repository-name "$repo" \
      --image-ids "imageDigest=$index" --accepted-media-types application/vnd.docker.distribution.manifest.list.v2+json application/vnd.oci.image.index.v1+json
  fi
  if [ "$(cat "$tmp/repo$n.json")" = null ]; then # a pull-through cache may create it on the first pull
    call "cache$n" "" aws ecr describe-pull-through-cache-rules "${er[@]}"
  fi
  # The snapshot keys each repository ACCOUNT/REGION/name, as pullmedic collect writes it.
  jq -n --arg key "$acct/$reg/$repo" --argjson repo "$(part "repo$n")" --argjson images "$(part "images$n")" \
    --argjson policy "$(part "repopolicy$n")" --argjson manifests "$(part "manifests$n")" --argjson cache "$(part "cache$n")" \
    '{key: $key, repo: $repo, images: $images, policy: $policy, manifests: $manifests, cache: $cache}' >"$tmp/ecr$n.json"
done

# --- Secrets the containers read (Secrets Manager and SSM Parameter Store).
n=0
for ref in $(jq -r '[.taskDefinition.containerDefinitions[] | (.secrets // [])[].valueFrom, .repositoryCredentials.credentialsParameter // empty] | unique[]' "$tmp/taskdef.json"); do
  n=$((n + 1))
  case $ref in
    arn:*:secretsmanager:*)
      # valueFrom may end in :json-key:version-stage:version-id; the secret is the first 7 fields.
      secret=$(cut -d: -f1-7 <<<"$ref") sreg=$(cut -d: -f4 <<<"$ref")
      call "secret$n" ResourceNotFoundException aws secretsmanager describe-secret --region "$sreg" --secret-id "$secret" ;;
    *)
      name=$ref preg=$region
      if [[ $ref == arn:* ]]; then name=/${ref#*:parameter/} preg=$(cut -d: -f4 <<<"$ref"); fi
      [[ $name == /* ]] || name=/$name
      call "param$n" "" aws ssm describe-parameters --region "$preg" --parameter-filters "Key=Name,Values=$name" ;;
  esac
done

# --- Assemble: every part as the CLI printed it (pullmedic reads those shapes).
jq -n \
  --arg account "$account" --arg region "$region" \
  --argjson tasks "$(part tasks)" --argjson taskdef "$(part taskdef)" --argjson clusters "$(part clusters)" \
  --argjson services "$(part services)" --argjson vpcs "$(part vpcs)" --argjson subnets "$(part subnets)" \
  --argjson dnssupport "$(part dnssupport)" --argjson dnshostnames "$(part dnshostnames)" \
  --argjson routetables "$(part routetables)" --argjson igws "$(part igws)" --argjson nats "$(part nats)" \
  --argjson endpoints "$(part endpoints)" --argjson sgs "$(part sgs)" --argjson nacls "$(part nacls)" \
  --argjson prefixlists "$(part prefixlists)" --argjson dhcp "$(part dhcp)" --argjson enis "$(part enis)" \
  --argjson iam "$(part iam-task)" --slurpfile managed <(each managed) --slurpfile ecr <(each ecr) \
  --slurpfile secrets <(each secret) --slurpfile params <(each param) '
  def drop_nulls: with_entries(select(.value != null));
  # One repository may serve several containers: its answers are merged.
  def by_key(f): [$ecr[] | {key, value: f} | select(.value != null)] | group_by(.key)
    | map({key: .[0].key, value: (if (.[0].value | type) == "array" then map(.value) | add else .[0].value end)}) | from_entries;
  {
    schema: "pullmedic.snapshot/v1", account: $account, region: $region,
    ecs: {clusters: $clusters, services: $services, tasks: $tasks, taskDefinitions: $taskdef} | drop_nulls,
    ec2: {vpcs: $vpcs, vpcAttributes: [$dnssupport, $dnshostnames | select(. != null)], subnets: $subnets,
          routeTables: $routetables, internetGateways: $igws, natGateways: $nats, vpcEndpoints: $endpoints,
          securityGroups: $sgs, networkAcls: $nacls, dhcpOptions: $dhcp, networkInterfaces: $enis,
          prefixLists: $prefixlists} | drop_nulls,
    iam: {RoleDetailList: $iam.RoleDetailList, Policies: ($iam.Policies + $managed)},
    ecr: {
      repositories: [$ecr[].repo | select(. != null) | .repositories[]] | unique_by(.repositoryArn),
      images: by_key(.images.imageDetails),
      repositoryPolicies: by_key(.policy),
      imageManifests: by_key(.manifests.images),
      pullThroughCacheRules: [$ecr[].cache | select(. != null) | .pullThroughCacheRules[]] | unique
    },
    secrets: {secretsManager: [$secrets[] | select(. != null)], ssmParameters: [$params[].Parameters[]]}
  }' >"$tmp/snapshot.json"

if [ -n "$out" ]; then
  cp "$tmp/snapshot.json" "$out"
  echo "snapshot-from-aws-cli: wrote $out" >&2
else
  cat "$tmp/snapshot.json"
fi
