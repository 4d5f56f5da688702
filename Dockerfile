# The criu-hotcache installer image. Run privileged with the host's root at /host, it installs
# criu-hotcache into the host as `hotcache install` does (the plugin into /usr/lib/criu, the action
# script with the self-contained prefetcher into /usr/libexec/criu-hotcache, the action-script line
# into /etc/criu/default.conf for the host's CRIU version) and builds the kernel module with DKMS
# where the host has dkms and the running kernel's headers; `uninstall` removes all of it:
#
#   podman build -t criu-hotcache-installer .
#   podman run --rm --privileged -v /:/host criu-hotcache-installer install
#   podman run --rm --privileged -v /:/host criu-hotcache-installer uninstall
#
# BASE is any Debian trixie (or later) image; the tests build from one imported locally.
ARG BASE=debian:trixie-slim

FROM ${BASE} AS deps
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm ca-certificates >/dev/null
# The build packages npm ci needs, in a layer of their own (tools/setup/build-deps.sh names them).
COPY tools/setup/build-deps.sh /tmp/build-deps.sh
RUN sh /tmp/build-deps.sh

FROM deps AS build
# Where the npm registry is reached through a TLS-inspecting proxy: its CA bundle, mounted into the
# build (podman build -v BUNDLE:/PATH --build-arg npm_config_cafile=/PATH).
ARG npm_config_cafile
WORKDIR /src
COPY . .
# Builds the TypeScript, the addon, the plugin, the prefetcher's bundle and fetches its private Node;
# then drops what only the build needed.
RUN npm ci --no-audit --no-fund && test -x dist/private-node/node && npm prune --omit=dev --no-audit --no-fund \
	&& rm -rf criu-plugin/out/*.o build/Release/obj.target build/Release/.deps

FROM ${BASE}
COPY --from=build /src /opt/criu-hotcache
ENTRYPOINT ["/opt/criu-hotcache/deploy/installer.sh"]
CMD ["install"]
