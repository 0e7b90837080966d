#!/bin/sh
set -e
mkdir -p /usr/local/bin
printf '#!/bin/sh\necho "%s, $(whoami)!"\n' "$GREETING" > /usr/local/bin/hello
chmod +x /usr/local/bin/hello
