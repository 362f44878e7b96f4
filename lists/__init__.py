"""Lists kept outside the policy (domains, addresses, employee numbers, codes, CIDR ranges), read
from Cloud Storage or Secret Manager and kept fresh without a redeploy."""
