#!/bin/sh
set -e
mkdir -p /opt/conformance
mkdir -p /opt/tool/bin
printf '#!/bin/sh\necho tool ran\n' > /opt/tool/bin/tool
chmod +x /opt/tool/bin/tool
echo "PATH=$PATH TOOL_HOME=$TOOL_HOME" > /opt/conformance/tool.txt
