echo "app running"
